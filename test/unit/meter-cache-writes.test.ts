// Receipts with 1-hour cache writes (tokens.cacheWrite1h, the share of cacheWrite written to a 1-hour cache)
// through the ledger, the export and /metrics; receipts written before the share existed read as having none.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Meter } from '../../daemon/meter/index';
import { Metrics, type MetricsDeps } from '../../daemon/metrics/index';
import type { Receipt } from '../../daemon/protocol';
import { makeReceipt } from '../fixtures/receipts';

/** A receipt with 300 cache-write tokens, 200 of them 1-hour; its cost carries both kinds in cacheWriteNanoUsd. */
const withOneHour = (i: number): Receipt => {
  const base = makeReceipt(i, { nano: 0 });
  return {
    ...base,
    tokens: { ...base.tokens, cacheWrite: 300, cacheWrite1h: 200 },
    cost: { ...base.cost, cacheWriteNanoUsd: 1_575_000, totalNanoUsd: 1_575_000 },
  };
};

test('the ledger keeps the 1-hour share; the CSV export has a column for it, 0 for older receipts', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-cache-1h-'));
  try {
    let meter = await Meter.open(stateDir);
    await meter.record(makeReceipt(0));
    await meter.record(withOneHour(1));
    await meter.close();
    // Read back after a restart: the month is replayed from the file.
    meter = await Meter.open(stateDir);
    try {
      assert.equal(meter.summary().monthNanoUsd, makeReceipt(0).cost.totalNanoUsd + 1_575_000);
      const json = path.join(stateDir, 'out.json');
      await meter.exportLedger({ path: json, format: 'json' });
      const receipts = JSON.parse(await readFile(json, 'utf8')) as Receipt[];
      assert.deepEqual(receipts.map((r) => r.tokens.cacheWrite1h), [undefined, 200]);
      const csv = path.join(stateDir, 'out.csv');
      await meter.exportLedger({ path: csv, format: 'csv' });
      const [header, ...rows] = (await readFile(csv, 'utf8')).split('\r\n').filter(Boolean).map((line) => line.split(','));
      const at = (name: string) => header.indexOf(name);
      assert.ok(at('cacheWrite1hTokens') === at('cacheWriteTokens') + 1);
      assert.deepEqual(rows.map((r) => [r[at('cacheWriteTokens')], r[at('cacheWrite1hTokens')], r[at('cacheWriteNanoUsd')]]), [['0', '0', '0'], ['300', '200', '1575000']]);
    } finally {
      await meter.close();
    }
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('/metrics counts 1-hour writes as their own token kind: the kinds still add up to the billed tokens', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'metrics-cache-1h-'));
  const meter = await Meter.open(stateDir);
  // Counting a receipt's tokens reads nothing but the receipt; of its parts, Metrics subscribes to the meter alone.
  const metrics = new Metrics({ meter } as Pick<MetricsDeps, 'meter'> as MetricsDeps);
  try {
    metrics.observe(withOneHour(1));
    metrics.observe(makeReceipt(4, { tokens: { input: 10, cachedInput: 0, cacheWrite: 50, output: 5, reasoning: 0, estimated: false } }));
    const { values } = await metrics.registry.getSingleMetric('switchyard_tokens_total')!.get();
    const byKind = (kind: string) => values.filter((v) => v.labels.kind === kind).reduce((sum, v) => sum + v.value, 0);
    assert.deepEqual([byKind('cache_write'), byKind('cache_write_1h')], [100 + 50, 200]);
  } finally {
    metrics.close();
    await meter.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});
