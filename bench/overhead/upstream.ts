// The fake upstream for the overhead bench: OpenAI chat completions on 127.0.0.1 that answer at once,
// one fixed JSON body or one fixed SSE stream (content chunks, the include_usage chunk, [DONE]).
// Bodies are built once, so the upstream's own cost is as close to nothing as Node allows.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

const PIECES = ['The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dog', '.'];
const USAGE = { prompt_tokens: 12, completion_tokens: PIECES.length, total_tokens: 12 + PIECES.length };
const CREATED = 1_780_000_000;

const JSON_BODY = Buffer.from(JSON.stringify({
  id: 'chatcmpl-fake', object: 'chat.completion', created: CREATED, model: 'fake-model',
  choices: [{ index: 0, message: { role: 'assistant', content: PIECES.join('') }, logprobs: null, finish_reason: 'stop' }],
  usage: USAGE,
}));

const chunk = (delta: object, finish: string | null, usage?: object) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: CREATED, model: 'fake-model', choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;

const SSE_BODY = Buffer.from([
  chunk({ role: 'assistant', content: '' }, null),
  ...PIECES.map((p) => chunk({ content: p }, null)),
  chunk({}, 'stop'),
  chunk({}, null, USAGE),
  'data: [DONE]\n\n',
].join(''));

export const ANSWER = PIECES.join('');

export interface FakeUpstream {
  port: number;
  baseUrl: string;
  requests: number;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<FakeUpstream> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      state.requests++;
      // `"stream":true` anywhere in the body: cheaper than parsing it, and every client here writes it so.
      const stream = Buffer.concat(parts).includes('"stream":true');
      if (stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'content-length': SSE_BODY.length });
        res.end(SSE_BODY);
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_BODY.length });
        res.end(JSON_BODY);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
