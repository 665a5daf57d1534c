// The few HTTP primitives the chat completions route needs, on node:http alone: it is served before
// Express (see server/http.ts), because the framework's routing, body parsing and response helpers
// cost more per request than the route's own work (docs/openai-endpoint.md).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { openAIError, type OpenAIError } from './errors';

/** A body refused before it could be read as a request: counted with the other invalid requests. */
const unreadable = (status: number, message: string): OpenAIError => ({ ...openAIError(status, 'invalid_request_error', null, message), refusal: 'invalid_request' });

/** The request body parsed as JSON; an OpenAI-shaped error naming what was wrong otherwise. */
export function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => unreadable(413, `The request body is larger than ${limit / 1024 / 1024} MiB (${limit} bytes)`);
    if (Number(req.headers['content-length']) > limit) {
      req.resume();
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) return reject(tooLarge());
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(unreadable(400, `The request body is not valid JSON: ${(error as Error).message}`));
      }
    });
    req.on('error', (error) => reject(openAIError(400, 'invalid_request_error', null, `The request body could not be read: ${error.message}`)));
  });
}

/**
 * A header value that node:http can send: text beyond printable ASCII percent-encoded. A user's policy
 * may be named in any script, and setHeader throws on a character a header cannot carry.
 */
export function headerValue(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Every refusal says `x-should-retry: false`: the daemon has already failed over, an SDK retry would bill again. */
export function sendError(res: ServerResponse, error: OpenAIError, headers: Record<string, string> = {}): void {
  sendJson(res, error.status, error.body, { ...headers, 'x-should-retry': 'false' });
}
