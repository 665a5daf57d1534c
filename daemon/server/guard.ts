// The checks every request passes before anything else happens. A web page in the user's browser can
// reach 127.0.0.1, so a browser Origin or a DNS-rebinding Host is refused outright, and everything
// but /healthz needs a bearer key: the daemon's token, or on HTTP routes the endpoint key too.

import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface Refusal {
  status: 401 | 403;
  /** OpenAI's error code, so the SDKs that call the endpoint can tell a wrong key from a refused origin. */
  code: 'invalid_api_key' | 'forbidden_origin' | 'forbidden_host';
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
    return { status: 403, code: 'forbidden_origin', message: `requests from a browser origin (${headers.origin}) are refused` };
  }
  if (!isLoopbackHost(headers.host)) {
    return { status: 403, code: 'forbidden_host', message: `Host "${headers.host ?? ''}" is not a loopback name` };
  }
  return null;
}

/** The bearer key must be one of `accepted`, compared in constant time. */
export function checkToken(headers: IncomingHttpHeaders, accepted: readonly string[]): Refusal | null {
  const header = headers.authorization;
  if (!header) return { status: 401, code: 'invalid_api_key', message: 'missing Authorization: Bearer <key> (the endpoint-key file in the state dir, or the token in daemon.json)' };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const given = Buffer.from(match?.[1] ?? '');
  const ok = accepted.some((key) => {
    const expected = Buffer.from(key);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
  return ok ? null : { status: 401, code: 'invalid_api_key', message: 'invalid bearer key' };
}
