// The endpoint's SSE framing: events written in one tick leave in one socket write.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { ChunkWriter } from '../../daemon/openai/sse';
import type { Receipt } from '../../daemon/protocol';

/** A response whose socket writes are recorded: one entry per write the socket would make. */
function recordingResponse() {
  const flushes: string[][] = [];
  const res = new Writable({
    write(chunk: Buffer, _encoding, done) {
      flushes.push([chunk.toString()]);
      done();
    },
    writev(chunks, done) {
      flushes.push(chunks.map((c) => String(c.chunk)));
      done();
    },
  }) as Writable & { writeHead(): void; setHeader(): void; removeHeader(): void; headersSent: boolean };
  res.writeHead = () => {};
  res.setHeader = () => {};
  res.removeHeader = () => {};
  Object.defineProperty(res, 'headersSent', { get: () => flushes.length > 0 });
  return { res: res as unknown as ServerResponse, flushes };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const receipt = {
  id: 'r1', requestId: 'q1', placementId: 'p1', site: { id: 'sim:x', provider: 'simulated', region: 'r', location: 'l', hardware: 'h' },
  model: 'm', providerModel: 'm', policy: 'balanced', workspace: null, client: 'test', outcome: 'complete', attempts: [],
  tokens: { input: 3, cachedInput: 0, cacheWrite: 0, output: 2, reasoning: 0 }, ttftMs: 1, totalMs: 2, tokensPerSecond: 1000, bytesReceived: 10,
  cost: { inputNanoUsd: 1, cachedInputNanoUsd: 0, cacheWriteNanoUsd: 0, outputNanoUsd: 2, requestFeeNanoUsd: 0, egressNanoUsd: 0, totalNanoUsd: 3 },
  createdAt: '2026-12-02T00:00:00.000Z',
} as unknown as Receipt;

test('events of one tick leave in one write; a later piece in its own', async () => {
  const { res, flushes } = recordingResponse();
  const writer = new ChunkWriter(res, 'chatcmpl-1', 1, 'm');
  writer.start({});
  writer.delta('Hello');
  writer.delta(' world');
  await tick();
  assert.equal(flushes.length, 1, 'the role chunk and both pieces go out together');
  const events = flushes[0].join('').split('\n\n').filter(Boolean);
  assert.equal(events.length, 3);
  // Each chunk is exactly what JSON.stringify makes of OpenAI's chunk object.
  const chunk = (delta: object) => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] })}`;
  assert.deepEqual(events, [chunk({ role: 'assistant', content: '', refusal: null }), chunk({ content: 'Hello' }), chunk({ content: ' world' })]);

  writer.delta('!');
  await tick();
  assert.equal(flushes.length, 2, 'a piece from a later read is not held back');
  assert.match(flushes[1].join(''), /"content":"!"/);

  writer.finish(receipt, true);
  await tick();
  const last = flushes.slice(2).flat().join('');
  assert.equal(flushes.length, 3, 'the finish, usage and [DONE] leave in one write');
  assert.match(last, /"finish_reason":"stop"/);
  assert.match(last, /"usage":/);
  assert.ok(last.endsWith('data: [DONE]\n\n'));
});

test('the headers and the role chunk wait for the first event after them, and leave with it', async () => {
  const { res, flushes } = recordingResponse();
  const writer = new ChunkWriter(res, 'chatcmpl-2', 1, 'm');
  writer.start({});
  await tick();
  assert.equal(flushes.length, 0, 'nothing is written while the upstream has not answered');
  assert.ok(writer.isStarted);
  writer.delta('Hi');
  await tick();
  assert.equal(flushes.length, 1);
  const events = flushes[0].join('').split('\n\n').filter(Boolean);
  assert.deepEqual(events.map((e) => JSON.parse(e.slice('data: '.length)).choices[0].delta), [{ role: 'assistant', content: '', refusal: null }, { content: 'Hi' }]);

  // A failover's comment waits with them, so that a request failing everywhere can still answer with an
  // HTTP error; it leaves with the first token, in the order of events.
  const second = recordingResponse();
  const failing = new ChunkWriter(second.res, 'chatcmpl-3', 1, 'm');
  failing.start({});
  failing.comment('switchyard: sim:a error; retrying on sim:b');
  await tick();
  assert.equal(second.flushes.length, 0);
  failing.delta('Hi');
  await tick();
  assert.equal(second.flushes.length, 1);
  assert.match(second.flushes[0].join(''), /"role":"assistant"[\s\S]*\n\n: switchyard: sim:a error; retrying on sim:b\n\ndata: [^\n]*"content":"Hi"/);
});
