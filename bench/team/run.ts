// Team ledger benchmark: what a team budget adds to each paid request (the hold before it is sent,
// the receipt that replaces the hold after), one request at a time and with several daemons racing
// for the same advisory lock. On a database of its own (the machine's PostgreSQL, or a private
// cluster as the tests start one).
//
//   node --import tsx bench/team/run.ts [requests=2000] [daemons=4] [concurrency=8]

import crypto from 'node:crypto';
import { TeamLedger } from '../../daemon/team/ledger';
import type { Receipt } from '../../daemon/protocol';
import { makeReceipt } from '../../test/fixtures/receipts';
import { startPostgres } from '../../test/support/postgres.cjs';
import { header, quantile, table } from '../machine';

const REQUESTS = Number(process.argv[2] ?? 2000);
const DAEMONS = Number(process.argv[3] ?? 4);
const CONCURRENCY = Number(process.argv[4] ?? 8);
const WORST_NANO = 50_000;

const quiet = { info() {}, warn() {} };

function receipt(i: number): Receipt {
  const r = makeReceipt(i, { id: crypto.randomUUID() });
  return { ...r, site: { ...r.site, simulated: false } };
}

async function connected(ledger: TeamLedger): Promise<void> {
  for (const deadline = Date.now() + 15_000; ledger.status().state !== 'connected'; await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`not connected: ${ledger.status().error}`);
  }
}

const ms = (v: number) => v.toFixed(3);

/** One request after another on one daemon: the time each step takes, ms. */
async function sequential(ledger: TeamLedger, withCap: boolean): Promise<(string | number)[]> {
  const holds: number[] = [];
  const records: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const hold = await ledger.hold(WORST_NANO);
    const t1 = performance.now();
    await ledger.record(receipt(i), hold);
    const t2 = performance.now();
    if (withCap !== (hold !== null)) throw new Error(`hold ${hold ? 'taken' : 'skipped'} with${withCap ? '' : 'out'} a team budget`);
    holds.push(t1 - t0);
    records.push(t2 - t1);
  }
  holds.sort((a, b) => a - b);
  records.sort((a, b) => a - b);
  return [withCap ? 'sequential, team budget set' : 'sequential, no team budget', `${ms(quantile(holds, 0.5))} / ${ms(quantile(holds, 0.99))}`, `${ms(quantile(records, 0.5))} / ${ms(quantile(records, 0.99))}`, '-'];
}

/** Every daemon runs `CONCURRENCY` request loops at once, all holding against the one team cap. */
async function racing(ledgers: TeamLedger[]): Promise<(string | number)[]> {
  const holds: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(ledgers.flatMap((ledger) => Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      const i = next++;
      const t0 = performance.now();
      const hold = await ledger.hold(WORST_NANO);
      holds.push(performance.now() - t0);
      await ledger.record(receipt(i), hold);
    }
  })));
  const perSecond = REQUESTS / ((performance.now() - started) / 1000);
  holds.sort((a, b) => a - b);
  return [`${ledgers.length} daemons × ${CONCURRENCY} at once, team budget set`, `${ms(quantile(holds, 0.5))} / ${ms(quantile(holds, 0.99))}`, '-', Math.round(perSecond)];
}

async function main(): Promise<void> {
  const db = await startPostgres();
  const ledgers = Array.from({ length: DAEMONS }, (_, k) => new TeamLedger(db.url, {
    member: `bench-${k}`, log: quiet, changed() {}, async *receiptsSince() {},
  }));
  try {
    for (const ledger of ledgers) ledger.start();
    await Promise.all(ledgers.map(connected));
    const rows: (string | number)[][] = [['scenario', 'hold p50 / p99 ms', 'receipt p50 / p99 ms', 'requests/s']];
    rows.push(await sequential(ledgers[0], false));
    await ledgers[0].setBudget('month', 1e6);
    // Every daemon hears of the cap (NOTIFY) before the next runs count on it.
    for (const ledger of ledgers) await connected(ledger);
    await new Promise((r) => setTimeout(r, 300));
    rows.push(await sequential(ledgers[0], true));
    rows.push(await racing(ledgers));
    console.log(header('Team ledger: what a team budget adds to a paid request'));
    console.log(`requests per scenario: ${REQUESTS}; PostgreSQL at ${db.url.replace(/\/\/[^@]*@/, '//')}`);
    console.log();
    console.log(table(rows));
  } finally {
    await Promise.all(ledgers.map((l) => l.close()));
    await db.stop();
  }
}

void main();
