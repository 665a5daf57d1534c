// GET /metrics in the Prometheus text format. Mounted behind the daemon's token or the endpoint key like every route but
// /healthz: point Prometheus at it with `authorization: { credentials_file: ... }`.

import { Router } from 'express';
import { served } from '../server/http';
import type { Metrics } from './index';

export function metricsRouter(metrics: Metrics): Router {
  const router = Router();
  served(router, '/metrics', {
    get: async (_req, res, next) => {
      try {
        const body = await metrics.text();
        res.set('Content-Type', metrics.contentType).set('Cache-Control', 'no-store').send(body);
      } catch (error) {
        next(error);
      }
    },
  });
  return router;
}
