// kill -9 at random moments while a real Meter appends as fast as it can: every acknowledged
// receipt survives, none is duplicated, torn tails are cut and reported, and the restored rollups
// equal a recomputation from the ledger itself.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Receipt } from '../../daemon/protocol';
import { Meter } from '../../daemon/meter/index';
import { listMonths, monthFile } from '../../daemon/meter/ledger';
import { scanFile } from '../../daemon/meter/ledger-scan';
import { Rollups } from '../../daemon/meter/rollups';
import { localDay, localMonth } from '../../daemon/meter/calendar';
import { runUntilKilled, spawnTs } from '../fixtures/kill-rounds';

const APPENDER = path.join(__dirname, '../fixtures/ledger-appender.ts');
const ROUNDS = 20;

async function ledgerReceipts(dir: string): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  for (const month of await listMonths(dir)) await scanFile(monthFile(dir, month), 0, (r) => receipts.push(r));
  return receipts;
}

test(`every acknowledged receipt survives ${ROUNDS} rounds of SIGKILL`, { timeout: 120_000 }, async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-kill-'));
  const ledgerDir = path.join(stateDir, 'ledger');
  const acked = new Set<string>();
  let tornInjected = 0;
  let tornReported = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const result = await runUntilKilled(spawnTs(APPENDER, [stateDir, `k${round}`]), 30 + Math.random() * 250);
      const report = result.recovery as { files: { tornBytes: number }[] };
      if (report.files.some((f) => f.tornBytes > 0)) tornReported++;
      for (const id of result.acked) acked.add(id);
      // Every third round, also leave a torn line as a crash mid-write would.
      if (round % 3 === 1) {
        const [month] = (await listMonths(ledgerDir)).slice(-1);
        await appendFile(monthFile(ledgerDir, month), '{"receipt":{"id":"torn-' + round + '","site":{"id":"x');
        tornInjected++;
      }
    }
    const meter = await Meter.open(stateDir);
    if (meter.recoveryReport.files.some((f) => f.tornBytes > 0)) tornReported++;
    assert.ok(acked.size > ROUNDS * 10, `only ${acked.size} receipts acknowledged`);
    assert.ok(tornReported >= tornInjected, `${tornInjected} torn tails injected, ${tornReported} reported`);
    const receipts = await ledgerReceipts(ledgerDir);
    const ids = receipts.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'a receipt is duplicated');
    const present = new Set(ids);
    const lost = [...acked].filter((id) => !present.has(id));
    assert.deepEqual(lost, [], 'acknowledged receipts lost');
    assert.ok(!ids.some((id) => id.startsWith('torn-')));
    console.log(`${acked.size} acknowledged, ${ids.length} in the ledger, ${tornReported} torn tails cut`);

    const now = Date.now();
    const recomputed = new Rollups();
    for (const r of receipts) if (localMonth(r.createdAt) === localMonth(now)) recomputed.add(r);
    const { reservedNanoUsd, budgets, recent, ...summary } = meter.summary();
    assert.deepEqual(summary, recomputed.summarize(localMonth(now), localDay(now)));
    assert.deepEqual(recent.map((r) => r.receiptId), ids.slice(-10).reverse(), 'the latest requests, read back after the kills');
    assert.equal(reservedNanoUsd, 0);
    assert.deepEqual(budgets, []);
    await meter.close();
    assert.ok((await readdir(ledgerDir)).some((n) => n.endsWith('.rollup.json')), 'snapshots were written');
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});
