// /metrics label values stay bounded whatever clients send: the `client` label comes from a
// User-Agent, which any tool may set to anything, and every distinct value is a series kept for the
// daemon's life (in its memory and in Prometheus).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics, type MetricsDeps } from '../../daemon/metrics';
import { clientName } from '../../daemon/openai/request';
import type { Receipt } from '../../daemon/protocol';

function receipt(client: string): Receipt {
  return {
    id: 'r1', requestId: 'q1', placementId: 'p1', site: { id: 'site/a', provider: 'openai-compatible', region: 'local', location: 'here', hardware: 'none' },
    model: 'm', providerModel: 'm', policy: 'cheapest', workspace: null, client, outcome: 'complete',
    attempts: [{ siteId: 'site/a', outcome: 'complete', ttftMs: 1, durationMs: 2 }],
    tokens: { input: 3, cachedInput: 0, cacheWrite: 0, output: 2, reasoning: 0 }, ttftMs: 1, totalMs: 2, tokensPerSecond: 1000, bytesReceived: 10,
    cost: { inputNanoUsd: 3, cachedInputNanoUsd: 0, cacheWriteNanoUsd: 0, outputNanoUsd: 4, requestFeeNanoUsd: 0, dataTransferNanoUsd: 0, totalNanoUsd: 7 },
    createdAt: '2026-12-07T00:00:00.000Z',
  } as Receipt;
}

function metrics(): Metrics {
  const meter = { onChange: () => () => {} };
  return new Metrics({ meter, catalog: {}, telemetry: {}, clock: {}, team: {} } as unknown as MetricsDeps);
}

test('a client that sends a new User-Agent with every request does not make a new series each time', async () => {
  const m = metrics();
  // The usual tools keep their own series.
  for (const ua of ['OpenAI/JS 6.49.0', 'OpenAI/Python 1.51.0', 'curl/8.5.0']) m.observe(receipt(clientName(ua)));
  m.observe(receipt('editor'));
  // A script that puts a run id in its User-Agent.
  for (let i = 0; i < 5000; i++) m.observe(receipt(clientName(`batch-job-${i}`)));
  const values = (await m.registry.getSingleMetric('switchyard_requests_total')!.get()).values;
  const clients = new Set(values.map((v) => String(v.labels.client)));
  assert.ok(clients.size <= 100, `${clients.size} client label values`);
  for (const kept of ['openai-api:OpenAI/JS', 'openai-api:OpenAI/Python', 'openai-api:curl', 'editor']) assert.ok(clients.has(kept), kept);
  // Every request is still counted, the ones past the bound under their door's "other".
  assert.equal(values.reduce((sum, v) => sum + v.value, 0), 5004);
  assert.ok(clients.has('openai-api:other'));
  m.close();
});
