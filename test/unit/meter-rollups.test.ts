// Spend summaries are folds of the receipts: every figure a SpendSummary sends must be what summing the
// receipts gives, whatever the names involved. Workspace keys reach the meter from any client (the
// OpenAI endpoint takes one from a header), and sites and models from the user's catalog.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Meter } from '../../daemon/meter/index';
import type { Receipt } from '../../daemon/protocol';
import { makeReceipt } from '../fixtures/receipts';

/** The sums a summary's tables show, by a plain fold of the receipts. */
function fold(receipts: Receipt[], key: (r: Receipt) => string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const r of receipts) sums.set(key(r), (sums.get(key(r)) ?? 0) + r.cost.totalNanoUsd);
  return sums;
}

const asMap = (record: Record<string, number>) => new Map(Object.entries(record));

test('names that are also properties of every object (__proto__, constructor, toString) are summed like any other', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'meter-rollups-'));
  const now = new Date(2026, 4, 12, 15).getTime();
  const meter = await Meter.open(stateDir, { clock: () => now });
  try {
    const odd = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'ws, "quoted"\nnext line'];
    const receipts = odd.map((name, i) => makeReceipt(i, {
      nano: 1_000 * (i + 1), createdAt: new Date(now).toISOString(), workspace: name, client: `openai-api:${name}`, model: name,
      site: { ...makeReceipt(i).site, id: name },
    }));
    receipts.push(makeReceipt(9, { nano: 7, createdAt: new Date(now).toISOString(), workspace: 'constructor' }));
    for (const r of receipts) await meter.record(r);
    const s = meter.summary();
    assert.deepEqual(asMap(s.byWorkspace), fold(receipts, (r) => r.workspace!));
    assert.deepEqual(asMap(s.byClient), fold(receipts, (r) => r.client));
    assert.deepEqual(asMap(s.byModel), fold(receipts, (r) => r.model));
    assert.deepEqual(asMap(s.bySite), fold(receipts, (r) => r.site.id));
    assert.deepEqual(asMap(s.days[0].bySite), fold(receipts, (r) => r.site.id));
    // What the editor receives: the same figures after JSON, every one a number.
    const sent = JSON.parse(JSON.stringify(s)) as typeof s;
    assert.deepEqual(asMap(sent.byWorkspace), fold(receipts, (r) => r.workspace!));
    assert.equal(meter.summary('__proto__').monthNanoUsd, 1_000);
  } finally {
    await meter.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});
