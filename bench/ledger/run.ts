// Ledger benchmark: durable appends per second (group commit, many concurrent appenders) and
// recovery time of a 1,000,000-receipt month, with and without the rollup snapshot.
// Run: node --import tsx bench/ledger/run.ts [receipts=1000000]

import { cpus } from 'node:os';
import { mkdtemp, rm, unlink, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Meter } from '../../daemon/meter/index';
import { monthFile } from '../../daemon/meter/ledger';
import { snapshotFile } from '../../daemon/meter/snapshot';
import { localMonth } from '../../daemon/meter/calendar';
import { makeReceipt } from '../../test/fixtures/receipts';

const TOTAL = Number(process.argv[2] ?? 1_000_000);

async function appendRun(meter: Meter, count: number, concurrency: number, startId: number): Promise<number> {
  let next = 0;
  const createdAt = new Date().toISOString();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = startId + next++;
      await meter.record(makeReceipt(i, { createdAt }));
    }
  }));
  return count / ((performance.now() - started) / 1000);
}

async function timedOpen(stateDir: string): Promise<[number, Meter]> {
  const started = performance.now();
  const meter = await Meter.open(stateDir);
  return [performance.now() - started, meter];
}

void (async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-bench-'));
  const rows: [string, string][] = [];
  try {
    const meter = await Meter.open(stateDir);
    for (const concurrency of [1, 64, 1024]) {
      const count = concurrency === 1 ? 2_000 : 100_000;
      rows.push([`durable appends/s, ${concurrency} concurrent appenders (${count.toLocaleString('en')} receipts)`, Math.round(await appendRun(meter, count, concurrency, rows.length * 1e7)).toLocaleString('en')]);
    }
    await meter.close();
    // Fill the month to TOTAL receipts through the real group-commit path.
    const have = (await Meter.open(stateDir).then(async (m) => { const n = m.summary().receipts; await m.close(); return n; }));
    const filler = await Meter.open(stateDir);
    const fillRate = await appendRun(filler, Math.max(1, TOTAL - have), 4096, 9e7);
    await filler.close();
    rows.push([`durable appends/s while filling to ${TOTAL.toLocaleString('en')} (4096 concurrent)`, Math.round(fillRate).toLocaleString('en')]);
    const file = monthFile(path.join(stateDir, 'ledger'), localMonth(Date.now()));
    rows.push(['ledger file size', `${((await stat(file)).size / 1e6).toFixed(0)} MB`]);

    const [withSnapshot, m1] = await timedOpen(stateDir);
    rows.push([`recovery of ${m1.summary().receipts.toLocaleString('en')} receipts, snapshot + tail (${m1.recoveryReport.rollups})`, `${withSnapshot.toFixed(0)} ms`]);
    await m1.close();
    await unlink(snapshotFile(path.join(stateDir, 'ledger'), localMonth(Date.now())));
    const [fullScan, m2] = await timedOpen(stateDir);
    rows.push([`recovery of ${m2.recoveryReport.replayed.toLocaleString('en')} receipts, full replay (no snapshot)`, `${fullScan.toFixed(0)} ms`]);
    await m2.close();
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
  const cpu = cpus();
  console.log(`command: node --import tsx bench/ledger/run.ts ${process.argv[2] ?? ''}`.trimEnd());
  console.log(`machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, Node ${process.version}, ${process.platform}`);
  console.log(`date:    ${new Date().toISOString()}`);
  console.log(`ledger:  ${tmpdir()}`);
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n| ${'measure'.padEnd(width)} | result |\n|${'-'.repeat(width + 2)}|--------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
})();
