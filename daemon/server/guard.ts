// The checks every request passes before anything else happens. A web page in the user's browser can
// reach 127.0.0.1, so a browser Origin or a DNS-rebinding Host is refused outright, and everything
// but /healthz needs the bearer token.

import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface Refusal {
  status: 401 | 403;
  message: string;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** `host` as sent in the Host header, with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return LOOPBACK_NAMES.has(name.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(name);
}

export function checkOrigin(headers: IncomingHttpHeaders): Refusal | null {
  if (headers.origin !== undefined) {
    return { status: 403, message: `requests from a browser origin (${headers.origin}) are refused` };
  }
  if (!isLoopbackHost(headers.host)) {
    return { status: 403, message: `Host "${headers.host ?? ''}" is not a loopback name` };
  }
  return null;
}

export function checkToken(headers: IncomingHttpHeaders, token: string): Refusal | null {
  const header = headers.authorization;
  if (!header) return { status: 401, message: 'missing Authorization: Bearer <token> (see daemon.json)' };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const given = Buffer.from(match?.[1] ?? '');
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    return { status: 401, message: 'invalid bearer token' };
  }
  return null;
}
