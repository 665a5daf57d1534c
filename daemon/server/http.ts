// The HTTP face of the daemon. Origin/Host checks run first for every route; /healthz is the one
// route without the token, and it says nothing a web page could use.
// Routes named in `direct` are served by a plain node:http listener ahead of Express, behind the same
// checks: the OpenAI endpoint's chat completions, where the framework's per-request cost showed.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { checkOrigin, checkToken, type Refusal } from './guard';

export interface HttpOptions {
  /** Bearer keys the routes accept: the daemon's token, and the endpoint key other tools keep. */
  keys: readonly string[];
  version: string;
  /** Routes mounted behind the token (the OpenAI-compatible endpoint, metrics). */
  routes?: (app: Express) => void;
  /** Listeners by "METHOD /path" (no query), served without Express, behind the same checks. */
  direct?: Record<string, RequestListener>;
}

/** OpenAI's error body, so that the SDKs pointed at the endpoint read every refusal as they read OpenAI's. */
function errorBody(message: string, code: string): string {
  return JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } });
}

function refuse(res: ServerResponse, refusal: Refusal): void {
  const body = errorBody(refusal.message, refusal.code);
  res.writeHead(refusal.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(refusal.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
  });
  res.end(body);
}

export function createHttpApp(options: HttpOptions): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    const refusal = checkOrigin(req.headers);
    if (refusal) return refuse(res, refusal);
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, name: 'switchyard', version: options.version });
  });
  app.use((req, res, next) => {
    const refusal = checkToken(req.headers, options.keys);
    if (refusal) return refuse(res, refusal);
    next();
  });
  options.routes?.(app);
  app.use((req, res) => {
    res.status(404).type('application/json').send(errorBody(`no route ${req.method} ${req.path}`, 'unknown_url'));
  });

  const direct = options.direct ?? {};
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const listener = direct[`${req.method} ${query < 0 ? url : url.slice(0, query)}`];
    if (!listener) return void app(req, res);
    const refusal = checkOrigin(req.headers) ?? checkToken(req.headers, options.keys);
    if (refusal) return refuse(res, refusal);
    listener(req, res);
  };
}
