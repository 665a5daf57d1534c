// The HTTP face of the daemon. Origin/Host checks run first for every route; /healthz is the one
// route without the token, and it says nothing a web page could use.
// Routes named in `direct` are served by a plain node:http listener ahead of Express, behind the same
// checks: the OpenAI endpoint's chat completions, where the framework's per-request cost showed.
// A route asked with a method it does not serve is answered 405 with Allow (`served`); 404 is for
// paths that are served by no method.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from '../log/logger';
import { checkOrigin, checkToken, type Refusal } from './guard';

export interface HttpOptions {
  /** Bearer keys the routes accept: the daemon's token, and the endpoint key other tools keep. */
  keys: readonly string[];
  version: string;
  /** Routes mounted behind the token (the OpenAI-compatible endpoint, metrics). */
  routes?: (app: Express) => void;
  /** Listeners by "METHOD /path" (no query), served without Express, behind the same checks. */
  direct?: Record<string, RequestListener>;
  /** Where a route's failure is told (the client gets no more than that it failed). */
  log?: Logger;
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

type Handlers = Partial<Record<'get' | 'post', RequestHandler>>;

/**
 * Serves `handlers` by method at `path`, and answers any other method there 405 with Allow, as HTTP
 * says (404 is for paths no method serves). Express answers HEAD wherever it answers GET.
 */
export function served(router: Router, path: string, handlers: Handlers): void {
  const route = router.route(path);
  const allow: string[] = [];
  for (const [method, handler] of Object.entries(handlers) as ['get' | 'post', RequestHandler][]) {
    route[method](handler);
    allow.push(...(method === 'get' ? ['GET', 'HEAD'] : ['POST']));
  }
  route.all((req, res) => {
    res.status(405).set('allow', allow.join(', ')).type('application/json')
      .send(errorBody(`${req.method} ${req.path} is not served; use ${allow.join(', ')}`, 'method_not_allowed'));
  });
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
  // Express's own answer to an error is an HTML page with the stack: no SDK reads that.
  app.use((error: { status?: unknown; message?: unknown }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) options.log?.error('HTTP route failed', { route: `${req.method} ${req.path}`, error });
    const message = status === 500 ? 'the daemon failed to answer; its log (daemon.log in the state dir) says why' : String(error.message);
    res.status(status).type('application/json').send(errorBody(message, status === 500 ? 'internal_error' : 'bad_request'));
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
