// The team ledger and budgets on a real PostgreSQL: daemons of one team record their real-site receipts
// in one ledger, a team budget holds across daemons without overshooting when they race, a daemon that
// joins brings its month's receipts, receipts kept while the ledger was away across a month's end arrive
// once and count in their own UTC month, a ledger that cannot be reached refuses paid requests (while
// simulated ones go on), and the database password stays out of the status and the log.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import { Meter } from '../../daemon/meter/index';
import { listMonths } from '../../daemon/meter/ledger';
import * as proto from '../../daemon/protocol';
import { TeamLedger } from '../../daemon/team/ledger';
import { connect, startDaemon, tempDir, waitFor, type RunningDaemon } from '../support/daemon';
import { startPostgres, type TestPostgres } from '../support/postgres.cjs';
import { sqlQuery } from '../support/sql';
import { Relay } from '../support/relay';
import { startFake, type FakeUpstream } from '../fakes/upstream';
import { makeReceipt } from '../fixtures/receipts';

const MODEL = 'ledger-chat';
const SITE = 'team/paid';
const PRICE = { inputPer1M: 1, outputPer1M: 2, readOn: '2026-12-01' };
const PASSWORD = 'team-pg-password-7c6b5a';
const KEY = { GROQ_API_KEY: 'gsk_teamledgerkey0123456789abcdef' };

let db: TestPostgres;
let fake: FakeUpstream;
let catalogFile: string;
const daemons: RunningDaemon[] = [];
const closers: (() => void)[] = [];

before(async () => {
  [db, fake] = await Promise.all([startPostgres({ password: PASSWORD }), startFake('openai')]);
  catalogFile = path.join(tempDir('switchyard-ledger-catalog-'), 'catalog.json');
  fs.writeFileSync(catalogFile, JSON.stringify({
    sites: [{
      id: SITE, provider: 'groq', region: 'local', location: '127.0.0.1 (fake upstream)', hardware: 'fake',
      endpoint: { kind: 'openai-compatible', baseUrl: fake.baseUrl },
      models: [{ canonical: MODEL, providerModel: 'llama-fake', contextWindow: 100_000, price: PRICE, ttftMs: 50, outputTokensPerSecond: 100 }],
    }],
  }, null, 2));
});

after(async () => {
  closers.forEach((close) => close());
  await Promise.all(daemons.map((d) => d.stop()));
  await fake.stop();
  await db.stop();
});

interface Member {
  d: RunningDaemon;
  rpc: MessageConnection;
  /** Receipts by request id, as they are pushed (one notification handler per connection serves every chat). */
  receipts: Map<string, proto.Receipt>;
}

async function daemon(member: string, ledgerUrl: string | null = db.url, stateDir?: string): Promise<Member> {
  const d = await startDaemon({
    ...(stateDir ? { stateDir } : {}),
    args: ['--catalog', catalogFile, '--sim-speed', '50'],
    env: { ...KEY, SWITCHYARD_TEAM_MEMBER: member, ...(ledgerUrl ? { SWITCHYARD_TEAM_POSTGRES_URL: ledgerUrl } : {}) },
  });
  daemons.push(d);
  const c = await connect(d);
  closers.push(c.close);
  const receipts = new Map<string, proto.Receipt>();
  c.rpc.onNotification(proto.receipt, (r: proto.ChatReceiptParams) => void receipts.set(r.requestId, r.receipt));
  return { d, rpc: c.rpc, receipts };
}

const ledgerOf = async (rpc: MessageConnection) => (await rpc.sendRequest(proto.status)).team.ledger;

function connected(rpc: MessageConnection): Promise<proto.TeamLedgerStatus> {
  return waitFor(async () => {
    const l = await ledgerOf(rpc);
    return l.state === 'connected' ? l : undefined;
  }, 15_000, () => 'the team ledger did not connect');
}

/** Starts a chat; resolves with its receipt, or rejects with the refusal. */
async function chat(m: Member, params: Partial<proto.ChatParams> = {}): Promise<proto.Receipt> {
  const { requestId } = await m.rpc.sendRequest(proto.chat, { model: MODEL, messages: [{ role: 'user', content: 'What did the team spend?' }], maxTokens: 32, ...params });
  return waitFor(() => m.receipts.get(requestId), 10_000, () => `no receipt for ${requestId}`);
}

const query = <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => sqlQuery<T>(db.url, sql, values);

const refusal = (error: unknown) => error as ResponseError<proto.BudgetExceededData>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RESERVE_LOCK = 0x5717c4;

function unreachable(rpc: MessageConnection): Promise<proto.TeamLedgerStatus> {
  return waitFor(async () => {
    const l = await ledgerOf(rpc);
    return l.state === 'unreachable' ? l : undefined;
  }, 15_000, () => 'never reported unreachable');
}

/** Another daemon's reservation, as it were: a transaction holding the team's lock until ROLLBACK. */
async function teamLockHeld(): Promise<pg.Client> {
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  await other.query('BEGIN');
  await other.query('SELECT pg_advisory_xact_lock($1)', [RESERVE_LOCK]);
  return other;
}

/** The backend of a reservation waiting for the team's lock. */
function waitingForLock(admin: pg.Client): Promise<number> {
  return waitFor(async () => {
    const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [db.database]);
    return rows[0]?.pid as number | undefined;
  }, 5000, () => 'no reservation waits for the team\'s lock');
}

/** A receipt at a real site, created at `createdAt` (ISO), costing `nano`. */
function paid(createdAt: string, nano: number): proto.Receipt {
  const receipt = makeReceipt(0, { id: crypto.randomUUID(), createdAt, nano });
  return { ...receipt, site: { ...receipt.site, simulated: false } };
}

/** A member's running totals, as [period, start (ISO), nano-USD]. */
async function spendOf(member: string): Promise<[string, string, number][]> {
  const rows = await query<{ period: string; starts: Date; nano_usd: string }>('SELECT period, starts, nano_usd FROM switchyard_spend WHERE member = $1 ORDER BY period, starts', [member]);
  return rows.map((r) => [r.period, r.starts.toISOString(), Number(r.nano_usd)]);
}

const isLedgerUnavailable = (error: ResponseError<unknown>) => {
  assert.equal(error.code, proto.ErrorCodes.TeamLedgerUnavailable, error.message);
  return true;
};

describe('the team ledger on PostgreSQL', () => {
  test('both members\' real-site receipts land in one ledger, and each daemon shows the team\'s spend', async () => {
    const a = await daemon('alice');
    const b = await daemon('bob');
    await Promise.all([connected(a.rpc), connected(b.rpc)]);
    const fromA = await chat(a);
    const fromB = await chat(b);
    const simulated = await chat(a, { model: 'llama-3.3-70b', policy: 'cheapest' });
    assert.equal(simulated.site.simulated, true);

    const rows = await query<{ id: string; member: string; cost: string }>('SELECT id, member, cost_nano_usd AS cost FROM switchyard_receipts ORDER BY created_at');
    assert.deepEqual(rows.map((r) => [r.id, r.member, Number(r.cost)]), [[fromA.id, 'alice', fromA.cost.totalNanoUsd], [fromB.id, 'bob', fromB.cost.totalNanoUsd]]);

    const total = fromA.cost.totalNanoUsd + fromB.cost.totalNanoUsd;
    // A learns of B's spend without asking: the insert notifies every daemon.
    const seen = await waitFor(async () => {
      const l = await ledgerOf(a.rpc);
      return l.spentMonthNanoUsd === total ? l : undefined;
    }, 5000, () => 'A never saw B\'s spend');
    assert.equal(seen.spentTodayNanoUsd, total);
    assert.deepEqual(seen.members.map((m) => m.member).sort(), ['alice', 'bob']);
    assert.equal(seen.member, 'alice');
    assert.equal(seen.reservedNanoUsd, 0);
    const metrics = await (await fetch(`${a.d.url}/metrics`, { headers: { authorization: `Bearer ${a.d.state.token}` } })).text();
    assert.match(metrics, /^switchyard_team_ledger_link\{state="connected"\} 1$/m);
    assert.match(metrics, new RegExp(`^switchyard_team_spend_usd\\{period="month"\\} ${total / 1e9}$`, 'm'));
  });

  test('running totals kept by an earlier version, without members, are rebuilt from the receipts at connect', async () => {
    await query('DROP TABLE switchyard_spend');
    await query('CREATE TABLE switchyard_spend (period text NOT NULL, starts timestamptz NOT NULL, nano_usd bigint NOT NULL, PRIMARY KEY (period, starts))');
    await query(`INSERT INTO switchyard_spend VALUES ('month', date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 1)`);
    const m = await daemon('judy');
    const ledger = await connected(m.rpc);
    const sums = await query<{ member: string; spent: string }>(
      `SELECT member, sum(cost_nano_usd) AS spent FROM switchyard_receipts WHERE created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' GROUP BY member`);
    assert.ok(sums.length > 0, 'earlier tests left receipts');
    assert.deepEqual(ledger.members.map((x) => [x.member, x.spentMonthNanoUsd]).sort(), sums.map((x) => [x.member, Number(x.spent)]).sort());
    assert.equal(ledger.spentMonthNanoUsd, sums.reduce((t, x) => t + Number(x.spent), 0));
    // And kept from then on.
    const receipt = await chat(m);
    const after = await waitFor(async () => {
      const l = await ledgerOf(m.rpc);
      return l.members.some((x) => x.member === 'judy') ? l : undefined;
    }, 5000, () => 'judy\'s spend never showed');
    assert.equal(after.members.find((x) => x.member === 'judy')!.spentMonthNanoUsd, receipt.cost.totalNanoUsd);
  });

  test('a team budget holds across daemons that race for it: no overshoot, each refusal says it is the team\'s', async () => {
    const a = await daemon('carol');
    const b = await daemon('dave');
    await Promise.all([connected(a.rpc), connected(b.rpc)]);
    // A fresh month for this test: the receipts, and the running totals kept from them.
    await query('DELETE FROM switchyard_receipts');
    await query('DELETE FROM switchyard_spend');

    // The worst case of one request, read from a refusal under a zero cap.
    const sent = fake.requests.length;
    await a.rpc.sendRequest(proto.setTeamBudget, { scope: 'day', capUsd: 0 });
    await waitFor(async () => ((await ledgerOf(b.rpc)).budgets.length === 1 ? true : undefined), 5000, () => 'B never saw the budget');
    const worst = await chat(b).then(
      () => assert.fail('admitted under a zero cap'),
      (error) => {
        const data = refusal(error).data!;
        assert.equal(refusal(error).code, proto.ErrorCodes.BudgetExceeded);
        assert.equal(data.team, true);
        assert.equal(data.scope, 'day');
        assert.match(refusal(error).message, /^Team Daily \(UTC\) budget \$0\.00 reached/);
        return data.worstCaseNanoUsd;
      },
    );
    assert.equal(fake.requests.length, sent, 'the refused request reached no site');

    // Room for three requests' worst cases; each answer takes long enough that all eight ask while the
    // first three are held (an answer settled below its worst case would make room for a fourth).
    await b.rpc.sendRequest(proto.setTeamBudget, { scope: 'day', capUsd: (3.5 * worst) / 1e9 });
    fake.setDefault({ firstDelayMs: 1500 });
    const outcomes = await Promise.allSettled([...Array(4)].flatMap(() => [chat(a), chat(b)]));
    fake.setDefault({});
    const admitted = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(admitted.length, 3, `admitted ${admitted.length}`);
    for (const r of refused) assert.equal(refusal(r.reason).data?.team, true, String(r.reason));

    const [{ spent }] = await query<{ spent: string }>('SELECT sum(cost_nano_usd) AS spent FROM switchyard_receipts');
    assert.ok(Number(spent) <= 3.5 * worst);
    // Every hold went with its receipt.
    assert.deepEqual(await query('SELECT * FROM switchyard_holds'), []);
    const budget = (await connected(a.rpc)).budgets[0];
    assert.equal(budget.setBy, 'dave');
    assert.equal(budget.capNanoUsd, Math.round(3.5 * worst));

    assert.equal((await a.rpc.sendRequest(proto.setTeamBudget, { scope: 'day', capUsd: null })).ledger.budgets.length, 0);
    assert.equal((await chat(a)).outcome, 'complete');
  });

  test('a failover\'s grown hold is checked against what the ledger holds for it, also after its lease lapsed', async () => {
    const ledger = new TeamLedger(db.url, { member: 'quinn', changed() {}, log: { info() {}, warn() {} }, receiptsSince: async function* () {} });
    ledger.start();
    await waitFor(() => (ledger.status().state === 'connected' ? true : undefined), 15_000, () => 'the team ledger never connected');
    await query('DELETE FROM switchyard_receipts');
    await query('DELETE FROM switchyard_spend');
    await ledger.setBudget('day', 10_000 / 1e9);
    try {
      // A teammate holds 6 of 10; ours holds 3.
      const teammate = await ledger.hold(6_000);
      const ours = (await ledger.hold(3_000))!;
      // Ours outlives its lease (a long outage, a database that lost it): the ledger no longer counts it.
      await query(`UPDATE switchyard_holds SET expires_at = now() - interval '1 second' WHERE id = $1`, [ours.id]);
      // Grown to 5, it must fit beside the teammate's 6: it does not, though 5 - 3 + 6 + 3 would.
      await assert.rejects(ledger.resize(ours, 5_000), (error: Error & { data?: proto.BudgetExceededData }) => {
        assert.equal(error.data?.team, true);
        assert.equal(error.data?.reservedNanoUsd, 6_000);
        return true;
      });
      assert.equal(ours.nanoUsd, 3_000, 'a refused resize leaves the hold as it was');
      // Grown to 4, it fits, and the ledger holds it again.
      await ledger.resize(ours, 4_000);
      const [{ held }] = await query<{ held: string }>('SELECT sum(nano_usd) AS held FROM switchyard_holds WHERE expires_at > now()');
      assert.equal(Number(held), 10_000);
      await Promise.all([ledger.release(teammate), ledger.release(ours)]);
    } finally {
      await ledger.setBudget('day', null);
      await ledger.close();
    }
  });

  test('a daemon whose view of the team\'s headroom is stale asks the ledger before refusing, and places on the fresh figure', async () => {
    const m = await daemon('heidi');
    await connected(m.rpc);
    await m.rpc.sendRequest(proto.setTeamBudget, { scope: 'month', capUsd: 1 });
    const spent = (await connected(m.rpc)).spentMonthNanoUsd;
    // A teammate's hold takes all but a thousandth of a cent; the daemon hears of it.
    const hold = '00000000-0000-4000-8000-000000000001';
    await query(`INSERT INTO switchyard_holds (id, member, nano_usd, expires_at) VALUES ($1, 'ivan', $2, now() + interval '1 minute')`, [hold, 1e9 - spent - 10_000]);
    await query(`SELECT pg_notify('switchyard_team_spend', 'ivan')`);
    await waitFor(async () => ((await ledgerOf(m.rpc)).reservedNanoUsd > 0 ? true : undefined), 5000, () => 'the hold was never heard of');
    // The teammate's request ends without a word to this daemon: only the ledger knows there is room.
    await query('DELETE FROM switchyard_holds WHERE id = $1', [hold]);
    const receipt = await chat(m);
    assert.equal(receipt.site.id, SITE);
    assert.equal(receipt.outcome, 'complete');
    await m.rpc.sendRequest(proto.setTeamBudget, { scope: 'month', capUsd: null });
  });

  test('a daemon that joins the team ledger brings this month\'s receipts from its own ledger', async () => {
    const stateDir = tempDir('switchyard-ledger-join-');
    const solo = await daemon('erin', null, stateDir);
    const earlier = [await chat(solo), await chat(solo)];
    assert.equal((await ledgerOf(solo.rpc)).state, 'off');
    await solo.rpc.sendRequest(proto.setTeam, { ledgerUrl: db.url });
    await connected(solo.rpc);
    const rows = await query<{ id: string }>('SELECT id FROM switchyard_receipts WHERE member = $1 ORDER BY created_at', ['erin']);
    assert.deepEqual(rows.map((r) => r.id), earlier.map((r) => r.id));
    // Sent again on the next connection (a restart), nothing is counted twice.
    await solo.d.stop();
    const again = await daemon('erin', db.url, stateDir);
    await connected(again.rpc);
    assert.equal((await query('SELECT id FROM switchyard_receipts WHERE member = $1', ['erin'])).length, 2);
    // The running totals a reservation reads count each receipt once, however often it was sent.
    const [{ sum }] = await query<{ sum: string }>('SELECT sum(cost_nano_usd) FROM switchyard_receipts WHERE created_at >= date_trunc(\'month\', now() AT TIME ZONE \'UTC\') AT TIME ZONE \'UTC\'');
    assert.equal((await connected(again.rpc)).spentMonthNanoUsd, Number(sum));

    // A receipt the team ledger could not take waits in the file ledger and goes with the next connection.
    await query('ALTER TABLE switchyard_receipts RENAME TO switchyard_receipts_away');
    try {
      const refusedThere = await chat(again);
      const resent = await waitFor(async () => {
        const rows = await query<{ id: string }>('SELECT id FROM switchyard_receipts WHERE member = $1', ['erin']).catch(() => []);
        return rows.some((r) => r.id === refusedThere.id) ? rows : undefined;
      }, 15_000, () => 'the receipt was never sent again');
      // Only what the ledger may lack: the receipts before it were there when the daemon last caught up.
      assert.deepEqual(resent.map((r) => r.id), [refusedThere.id]);
      assert.equal((await connected(again.rpc)).behind, false);
    } finally {
      await query('INSERT INTO switchyard_receipts SELECT * FROM switchyard_receipts_away ON CONFLICT (id) DO NOTHING').catch(() => {});
      await query('DROP TABLE IF EXISTS switchyard_receipts_away');
    }
  });

  test('receipts from both sides of the month\'s end, kept while the ledger was away, each land once in their own UTC month', async () => {
    const member = 'nina';
    const zone = process.env.TZ;
    let now = Date.parse('2026-01-01T09:00:00.000Z');
    const meter = await Meter.open(tempDir('switchyard-ledger-months-'), { clock: () => now });
    const asked: string[] = [];
    const link = (url: string) => new TeamLedger(url, {
      member, clock: () => now, changed() {}, log: { info() {}, warn() {} },
      receiptsSince: (since) => (asked.push(new Date(since).toISOString()), meter.receiptsSince(since)),
    });
    const relay = await Relay.on(db.port);
    let ledger = link(relay.through(db.url));
    const state = (wanted: string) => waitFor(() => (ledger.status().state === wanted ? true : undefined), 15_000, () => `the team ledger never became ${wanted}`);
    /** Written in the zone given (which names its month file), and sent to the team ledger as the daemon does, unless `fileOnly`. */
    const written = async (tz: string, createdAt: string, nano: number, fileOnly = false) => {
      process.env.TZ = tz;
      const receipt = paid(createdAt, nano);
      await meter.record(receipt);
      if (!fileOnly) await ledger.record(receipt, null);
      return receipt.id;
    };
    const sent = async () => (await query<{ id: string }>('SELECT id FROM switchyard_receipts WHERE member = $1 ORDER BY created_at', [member])).map((r) => r.id);
    try {
      ledger.start();
      await state('unreachable');
      // From a daemon before this one (never sent): one before the previous UTC month, one in it, filed under
      // the local month before it (30 November in Los Angeles).
      await written('America/Los_Angeles', '2025-11-30T20:00:00.000Z', 1, true);
      const early = await written('America/Los_Angeles', '2025-12-01T02:00:00.000Z', 1_000, true);
      // While the ledger is away across the year's end: 31 December in UTC filed under January in
      // Auckland, 1 January in UTC filed under December in Los Angeles.
      const late = await written('Pacific/Auckland', '2025-12-31T23:30:00.000Z', 20_000);
      const next = await written('America/Los_Angeles', '2026-01-01T05:00:00.000Z', 300_000);
      assert.deepEqual(await listMonths(meter.dir), ['2025-11', '2025-12', '2026-01']);
      assert.equal(ledger.status().behind, true);

      await relay.start();
      await state('connected');
      assert.deepEqual(await sent(), [early, late, next], 'the previous UTC month\'s receipts were sent, and none older');
      assert.equal(ledger.status().behind, false);
      const spend = [
        ['day', '2025-12-01T00:00:00.000Z', 1_000], ['day', '2025-12-31T00:00:00.000Z', 20_000], ['day', '2026-01-01T00:00:00.000Z', 300_000],
        ['month', '2025-12-01T00:00:00.000Z', 21_000], ['month', '2026-01-01T00:00:00.000Z', 300_000],
      ];
      assert.deepEqual(await spendOf(member), spend);

      // Away again an hour later: the next connection sends from where the last one caught up.
      now = Date.parse('2026-01-01T10:00:00.000Z');
      await relay.stop();
      await state('unreachable');
      const later = await written('Europe/Berlin', '2026-01-01T10:00:00.000Z', 4_000_000);
      await relay.start();
      await state('connected');
      assert.deepEqual(await sent(), [early, late, next, later]);
      spend[2][2] = spend[4][2] = 4_300_000;
      assert.deepEqual(await spendOf(member), spend);

      // A restart knows nothing of what the ledger has: it sends both months again, and nothing counts twice.
      await ledger.close();
      ledger = link(db.url);
      ledger.start();
      await state('connected');
      assert.deepEqual(await sent(), [early, late, next, later]);
      assert.deepEqual(await spendOf(member), spend);
      assert.deepEqual(asked, ['2025-12-01T00:00:00.000Z', '2026-01-01T09:00:00.000Z', '2025-12-01T00:00:00.000Z']);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
      await ledger.close();
      await relay.stop();
      await meter.close();
    }
  });

  test('an editor that goes away while its request waits for the team\'s hold has it cancelled: nothing is sent or billed', async () => {
    const d = await startDaemon({ args: ['--catalog', catalogFile], env: { ...KEY, SWITCHYARD_TEAM_MEMBER: 'grace', SWITCHYARD_TEAM_POSTGRES_URL: db.url } });
    daemons.push(d);
    const editor = await connect(d);
    // A second window, which stays: it sees when the daemon has heard the first one leave.
    const watcher = await connect(d);
    await connected(editor.rpc);
    await editor.rpc.sendRequest(proto.setTeamBudget, { scope: 'month', capUsd: 1000 });
    // Another daemon's reservation, as it were: the team's lock held, so this request's hold waits.
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1)', [0x5717c4]);
      const before = fake.requests.length;
      const started = editor.rpc.sendRequest(proto.chat, { model: MODEL, messages: [{ role: 'user', content: 'Never mind.' }], maxTokens: 32 }).catch(() => 'gone');
      // The chat request is answered once placed and held: half a second without an answer is the hold waiting.
      assert.equal(await Promise.race([started, new Promise((resolve) => setTimeout(() => resolve('waiting'), 500))]), 'waiting');
      // The window goes away with a request outstanding: whatever the socket reports on the way down is expected.
      editor.socket.on('error', () => {});
      editor.close();
      assert.equal(await started, 'gone');
      // Only once the daemon has heard the window leave does the lock go: otherwise the hold could end
      // first, and the request would rightly be sent and then cancelled.
      await waitFor(async () => ((await watcher.rpc.sendRequest(proto.status)).clients === 1 ? true : undefined), 10_000, () => 'the daemon never heard the window leave');
      await other.query('COMMIT');
      const ledger = path.join(d.stateDir, 'ledger');
      const receipt = await waitFor(() => {
        const lines = fs.existsSync(ledger) ? fs.readdirSync(ledger).filter((f) => f.endsWith('.jsonl')).flatMap((f) => fs.readFileSync(path.join(ledger, f), 'utf8').split('\n')) : [];
        return lines.filter(Boolean).map((l) => (JSON.parse(l) as { receipt: proto.Receipt }).receipt).find((r) => r.site.id === SITE);
      }, 10_000, () => 'no receipt for the cancelled request');
      assert.deepEqual([receipt.outcome, receipt.cost.totalNanoUsd, receipt.attempts.length], ['cancelled', 0, 0]);
      assert.equal(fake.requests.length, before, 'the upstream was asked');
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.end();
      await watcher.rpc.sendRequest(proto.setTeamBudget, { scope: 'month', capUsd: null });
      watcher.close();
    }
  });

  test('while the ledger cannot be reached, paid requests are refused and simulated ones go on', async () => {
    const down = db.url.replace(`:${db.port}/`, ':1/');
    const frank = await daemon('frank', down);
    const { rpc } = frank;
    const status = await waitFor(async () => {
      const l = await ledgerOf(rpc);
      return l.state === 'unreachable' ? l : undefined;
    }, 15_000, () => 'never reported unreachable');
    assert.match(status.error ?? '', /ECONNREFUSED|connect/i);
    const before = fake.requests.length;
    await assert.rejects(chat(frank), (error: ResponseError<unknown>) => {
      assert.equal(error.code, proto.ErrorCodes.TeamLedgerUnavailable);
      assert.match(error.message, /^the team's budgets cannot be checked: the team ledger at 127\.0\.0\.1:1 is unreachable/);
      return true;
    });
    assert.equal(fake.requests.length, before);
    const simulated = await chat(frank, { model: 'llama-3.3-70b', policy: 'cheapest' });
    assert.equal(simulated.site.simulated, true);
    assert.equal(simulated.attempts.length, 1);
    assert.ok(simulated.outcome === 'complete' || simulated.outcome === 'length', simulated.outcome);
  });

  test('the password stays out of the status and the log; bad input is refused and changes nothing', async () => {
    const { d, rpc } = await daemon('grace', null);
    const set = await rpc.sendRequest(proto.setTeam, { ledgerUrl: db.url });
    assert.equal(set.ledger.server, `127.0.0.1:${db.port}`);
    const status = await connected(rpc);
    assert.ok(!JSON.stringify(status).includes(PASSWORD));
    const budgets = await query('SELECT * FROM switchyard_team_budgets');

    const invalid = (error: ResponseError<unknown>, message: RegExp) => {
      assert.equal(error.code, -32602);
      assert.match(error.message, message);
      return true;
    };
    await assert.rejects(rpc.sendRequest(proto.setTeam, { ledgerUrl: 'mysql://127.0.0.1/x' }), (e: ResponseError<unknown>) => invalid(e, /^ledgerUrl must be a postgres:\/\/ or postgresql:\/\/ URL, not mysql:\/\/$/));
    await assert.rejects(rpc.sendRequest(proto.setTeamBudget, { scope: 'week' as 'day', capUsd: 1 }), (e: ResponseError<unknown>) => invalid(e, /^scope must be "day" or "month"$/));
    await assert.rejects(rpc.sendRequest(proto.setTeamBudget, { scope: 'month', capUsd: -1 }), (e: ResponseError<unknown>) => invalid(e, /^capUsd must be a number from 0 to 9007199 \(USD\)/));
    await assert.rejects(rpc.sendRequest(proto.setTeamBudget, { scope: 'day', capUsd: 1e10 }), (e: ResponseError<unknown>) => invalid(e, /^capUsd must be a number from 0 to 9007199 \(USD\), or null/));
    assert.equal((await ledgerOf(rpc)).state, 'connected');
    assert.deepEqual(await query('SELECT * FROM switchyard_team_budgets'), budgets);

    assert.equal((await rpc.sendRequest(proto.setTeam, { ledgerUrl: null })).ledger.state, 'off');
    await assert.rejects(rpc.sendRequest(proto.setTeamBudget, { scope: 'month', capUsd: 5 }), (e: ResponseError<unknown>) => invalid(e, /^no team ledger is set/));
    await d.stop();
    assert.ok(!fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8').includes(PASSWORD), 'the password is in the log');
  });

  test('a daemon started while PostgreSQL is down connects once it is up, and again after a restart longer than its first retry', async () => {
    const relay = await Relay.on(db.port);
    try {
      const { rpc } = await daemon('kate', relay.through(db.url));
      assert.match((await unreachable(rpc)).error ?? '', /ECONNREFUSED|connect/i);
      await relay.start();
      await connected(rpc);
      // Down for two and a half seconds: the retry a second after the drop fails too, and the next must still come.
      await relay.stop();
      await unreachable(rpc);
      await sleep(2500);
      await relay.start();
      await connected(rpc);
    } finally {
      await relay.stop();
    }
  });

  test('a connection dropped while a reservation waits for the team\'s lock refuses that request and leaves the daemon running', async () => {
    const m = await daemon('liam');
    await connected(m.rpc);
    await m.rpc.sendRequest(proto.setTeamBudget, { scope: 'month', capUsd: 1000 });
    const other = await teamLockHeld();
    try {
      const refused = chat(m).then(() => assert.fail('admitted while the team\'s lock was held'), isLedgerUnavailable);
      // The server ends the waiting connection (a restart, a failover, an administrator).
      await other.query('SELECT pg_terminate_backend($1)', [await waitingForLock(other)]);
      // A daemon that died answers nothing: bounded, so that this fails rather than hangs.
      assert.equal(await Promise.race([refused, sleep(10_000).then(() => 'no answer')]), true);
      await other.query('ROLLBACK');
      await sleep(500);
      assert.equal(m.d.process.exitCode, null, `the daemon exited: ${m.d.stderr()}`);
      await connected(m.rpc);
      assert.equal((await chat(m)).outcome, 'complete');
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.end();
      await query('DELETE FROM switchyard_team_budgets');
    }
  });

  test('a daemon cut off between its reservation\'s round trips holds the team\'s lock for seconds, and its own request is refused', async () => {
    const relay = await Relay.on(db.port);
    await relay.start();
    const m = await daemon('mona', relay.through(db.url));
    await connected(m.rpc);
    await m.rpc.sendRequest(proto.setTeamBudget, { scope: 'month', capUsd: 1000 });
    const other = await teamLockHeld();
    const teammate = new pg.Client({ connectionString: db.url });
    await teammate.connect();
    try {
      const started = Date.now();
      const refused = chat(m).then(() => 'admitted', (error: ResponseError<unknown>) => isLedgerUnavailable(error) && 'refused');
      await waitingForLock(other);
      // The network goes silent; the reservation's backend takes the lock and answers into the void.
      relay.freeze();
      await other.query('ROLLBACK');
      // A teammate's reservation gets the lock once the server ends the silent transaction.
      await teammate.query(`SET lock_timeout = '15s'`);
      await teammate.query('BEGIN');
      const waited = Date.now();
      await teammate.query('SELECT pg_advisory_xact_lock($1)', [RESERVE_LOCK]);
      await teammate.query('COMMIT');
      assert.ok(Date.now() - waited < 9000, `the team's lock was held ${Date.now() - waited} ms`);
      // The cut-off daemon's own call gives up on its silent connection rather than wait for TCP.
      assert.equal(await Promise.race([refused, sleep(20_000).then(() => 'still waiting')]), 'refused');
      assert.ok(Date.now() - started < 15_000, `refused after ${Date.now() - started} ms`);
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await Promise.all([other.end(), teammate.end()]);
      await relay.stop();
      await query('DELETE FROM switchyard_team_budgets');
    }
  });
});
