// Ledger.settled: the barrier that reads after an early answer wait on (export, /metrics). It resolves
// only once every append made before it is durable, whether that append is in the batch being synced
// or still queued behind it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ledger } from '../../daemon/meter/ledger';
import { makeReceipt } from '../fixtures/receipts';

test('settled() waits for appends in flight and queued, and is immediate when idle', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ledger-settled-'));
  const durable: string[] = [];
  const ledger = await Ledger.open(dir, { onDurable: (entries) => durable.push(...entries.map((e) => e.receipt.id)) });
  try {
    await ledger.settled();
    const first = ledger.append(makeReceipt(0, { id: 'a' }));
    // Let the first batch start its write, so the next append waits in the queue behind it.
    await new Promise((resolve) => setImmediate(resolve));
    const second = ledger.append(makeReceipt(1, { id: 'b' }));
    await ledger.settled();
    assert.deepEqual(durable, ['a', 'b']);
    await Promise.all([first, second]);
    const third = ledger.append(makeReceipt(2, { id: 'c' }));
    await ledger.settled();
    assert.deepEqual(durable, ['a', 'b', 'c']);
    await third;
  } finally {
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  }
});
