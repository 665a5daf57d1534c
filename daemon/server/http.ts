// The HTTP face of the daemon. Origin/Host checks run first for every route; /healthz is the one
// route without the token, and it says nothing a web page could use.

import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { checkOrigin, checkToken } from './guard';

export interface HttpOptions {
  token: string;
  version: string;
  /** Routes mounted behind the token (the OpenAI-compatible endpoint, metrics). */
  routes?: (app: Express) => void;
}

export function createHttpApp(options: HttpOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const refusal = checkOrigin(req.headers);
    if (refusal) return void res.status(refusal.status).json({ error: { message: refusal.message } });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, name: 'switchyard', version: options.version });
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    const refusal = checkToken(req.headers, options.token);
    if (refusal) return void res.status(refusal.status).set('WWW-Authenticate', 'Bearer').json({ error: { message: refusal.message } });
    next();
  });
  options.routes?.(app);
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: { message: `no route ${req.method} ${req.path}` } });
  });
  return app;
}
