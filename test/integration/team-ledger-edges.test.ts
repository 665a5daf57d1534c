// The team ledger (daemon/team/ledger.ts) on a real PostgreSQL, in a database of this file's own, at
// its edges: receipts whose text PostgreSQL's jsonb cannot hold as sent, and the UTC day turning while
// the team is quiet.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, mock, test } from 'node:test';
import pg from 'pg';
import type { Receipt } from '../../daemon/protocol';
import { TeamLedger } from '../../daemon/team/ledger';
import { startPostgres, type TestPostgres } from '../support/postgres.cjs';
import { sqlQuery } from '../support/sql';
import { waitFor } from '../support/daemon';
import { makeReceipt } from '../fixtures/receipts';

let db: TestPostgres;

before(async () => {
  db = await startPostgres();
});

after(async () => {
  await db.stop();
});

const query = <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => sqlQuery<T>(db.url, sql, values);

/** A receipt at a real site. */
function paid(over: Partial<Receipt> = {}): Receipt {
  const receipt = makeReceipt(0, { id: crypto.randomUUID(), ...over });
  return { ...receipt, site: { ...receipt.site, simulated: false } };
}

/** A ledger for `member` whose file ledger holds `kept`. */
function ledgerOf(member: string, kept: Receipt[], lines: string[] = [], more: { clock?: () => number; changed?: () => void } = {}): TeamLedger {
  return new TeamLedger(db.url, {
    member, changed: more.changed ?? (() => {}), clock: more.clock, log: { info: (m) => lines.push(m), warn: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`) },
    async *receiptsSince(since) {
      yield kept.filter((r) => Date.parse(r.createdAt) >= since);
    },
  });
}

const connected = (ledger: TeamLedger) => waitFor(() => (ledger.status().state === 'connected' ? true : undefined), 15_000, () => `never connected: ${JSON.stringify(ledger.status())}`);

describe('the team ledger at its edges', () => {
  test('a receipt carrying a NUL or half a surrogate pair (an upstream\'s garbled error) goes in, and the link stays up', async () => {
    const kept: Receipt[] = [];
    const lines: string[] = [];
    const ledger = ledgerOf('olga', kept, lines);
    ledger.start();
    try {
      await connected(ledger);
      // jsonb refuses \u0000 and a lone surrogate: sent as they are, the insert fails, the link is taken
      // for down, and every reconnection's catch-up sends the same receipt and fails again, for as long
      // as it is in the two months a catch-up reads, refusing the member's paid requests meanwhile.
      const garbled = paid({ outcome: 'error', error: 'team/paid: malformed response: Unexpected token \u0000 in JSON', attempts: [{ siteId: 'team/paid', outcome: 'error', message: `team/paid: ${'é'.repeat(3)}${'🙂'.slice(0, 1)}`, ttftMs: null, durationMs: 5 }] });
      kept.push(garbled);
      await ledger.record(garbled, null);
      const next = paid();
      kept.push(next);
      await ledger.record(next, null);
      const rows = await query<{ id: string; receipt: Receipt }>('SELECT id, receipt FROM switchyard_receipts WHERE member = $1', ['olga']);
      assert.deepEqual(rows.map((r) => r.id).sort(), [garbled.id, next.id].sort(), JSON.stringify(lines));
      const stored = rows.find((r) => r.id === garbled.id)!.receipt;
      assert.equal(stored.error, 'team/paid: malformed response: Unexpected token \uFFFD in JSON');
      assert.equal(stored.attempts[0].message, 'team/paid: ééé\uFFFD');
      assert.equal(ledger.status().state, 'connected', JSON.stringify(ledger.status()));
      assert.equal(ledger.status().behind, false);
    } finally {
      await ledger.close();
    }
    // One kept while the ledger was away goes with the next connection's catch-up, which then connects.
    const unsent = paid({ error: 'cut\u0000' });
    const later = ledgerOf('olga', [unsent]);
    later.start();
    try {
      await connected(later);
      assert.equal((await query('SELECT id FROM switchyard_receipts WHERE id = $1', [unsent.id])).length, 1);
    } finally {
      await later.close();
    }
  });

  test('the team\'s spend today is read again once the UTC day has turned, though no teammate writes', async () => {
    // The lease renewal's interval is the test's to run; the rest of the ledger's timers are real.
    mock.timers.enable({ apis: ['setInterval'] });
    let now = Date.now();
    let changes = 0;
    const ledger = ledgerOf('pavel', [], [], { clock: () => now, changed: () => void changes++ });
    ledger.start();
    try {
      await connected(ledger);
      await ledger.setBudget('day', 5_000 / 1e9);
      const before = changes;
      await ledger.record(paid({ cost: { ...paid().cost, totalNanoUsd: 5_000 } }), null);
      // Its own notification read back, so that no read after this one is already on its way.
      await waitFor(() => (changes > before ? true : undefined), 5000, () => 'the receipt\'s notification was never heard');
      const today = ledger.status().spentTodayNanoUsd;
      assert.ok(today >= 5_000, `spent today ${today}`);
      assert.equal(ledger.status().budgets[0].state, 'exceeded');

      // Midnight, UTC, for the server (the spend it has is yesterday's) and this daemon; nobody spends.
      await query(`UPDATE switchyard_spend SET starts = starts - interval '1 day' WHERE period = 'day'`);
      now += 86_400_000;
      mock.timers.tick(30_000);
      // Yesterday's spend shown as today's says the day's cap is reached when nothing is spent yet.
      await waitFor(() => (ledger.status().spentTodayNanoUsd === 0 ? true : undefined), 5000, () => `still ${JSON.stringify(ledger.status())}`);
      assert.equal(ledger.status().budgets[0].state, 'ok');
    } finally {
      mock.timers.reset();
      await ledger.setBudget('day', null).catch(() => {});
      await ledger.close();
    }
  });
});
