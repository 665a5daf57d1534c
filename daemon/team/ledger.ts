// The team ledger: every member's receipts at real sites, and the team's budgets, on the team's
// PostgreSQL (DESIGN.md: transactions make reservations race-free across daemons).
//
// Each daemon keeps its own file ledger, the durable record it bills from; the team ledger is the
// union of the members' receipts, inserted by receipt id so that sending one twice changes nothing.
// A team budget is held like a local one: before a request goes to a real site, its worst case is
// reserved in a transaction that takes one advisory lock, reads the team's spend and holds, and adds
// a hold only when it fits under every cap. The hold is replaced by the receipt in one statement when
// the request ends. Holds are leases that the daemon renews while the request runs, so a daemon that
// dies leaves nothing held for long.
//
// Simulated sites cost nothing real and are neither recorded nor held.

import crypto from 'node:crypto';
import pg from 'pg';
import type { Receipt, TeamBudgetStatus, TeamLedgerStatus } from '../protocol';
import { BudgetExceededError } from '../meter';
import type { Clock } from '../meter/calendar';
import { TeamLedgerUnavailableError, type TeamHold } from './hold';
import { teamServerOf } from './url';

/** How long a hold lives without renewal: a daemon that died stops holding the team's money after this. */
const HOLD_LEASE_S = 120;
/** Live holds are renewed this often. */
const RENEW_MS = 30_000;
/** Between reconnection attempts, growing to this. */
const MAX_RETRY_MS = 30_000;
/** A budget warns at this share of its cap. */
const WARN_RATIO = 0.8;
/** Teammates' writes are read back at most this often: each read sums the month's receipts. */
const REFRESH_MS = 250;
const DAY_MS = 86_400_000;
/** Receipts per insert when catching up. */
const CATCH_UP_BATCH = 500;
/** One lock for every reservation in the team: they are few per second, and each takes a millisecond. */
const RESERVE_LOCK = 0x5717c4;
const NOTIFY_CHANNEL = 'switchyard_team_spend';
/**
 * A reservation waits this long at most for the team's lock, and PostgreSQL ends one left idle this long
 * in its transaction: a daemon cut off between its two round trips (a laptop closed, a network gone
 * silent) would otherwise hold every teammate's paid requests until TCP gave up on it, hours later.
 */
const RESERVE_LOCK_WAIT = '5s';
const RESERVE_IDLE = '5s';
/**
 * No call waits longer for the server's answer: a connection silent this long is taken for lost. Above
 * the lock wait, so that a reservation refused for a busy lock says so rather than timing out.
 */
const QUERY_TIMEOUT_MS = 10_000;
/** The schema may rebuild the running totals from every receipt the team has: given longer than a call. */
const SCHEMA_TIMEOUT_MS = 120_000;
/** PostgreSQL's lock_not_available: the lock wait ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Receipts' cost summed per UTC day and month and member: the running totals' rows. */
const SPEND_OF = (receipts: string) => `
  SELECT p.period, date_trunc(p.period, r.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', r.member, sum(r.cost_nano_usd)
  FROM ${receipts} r CROSS JOIN (VALUES ('day'), ('month')) AS p(period)
  GROUP BY 1, 2, 3`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS switchyard_receipts (
  id uuid PRIMARY KEY,
  member text NOT NULL,
  created_at timestamptz NOT NULL,
  site text NOT NULL,
  provider text NOT NULL,
  model text NOT NULL,
  workspace text,
  client text NOT NULL,
  outcome text NOT NULL,
  cost_nano_usd bigint NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  receipt jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS switchyard_receipts_created_at ON switchyard_receipts (created_at);
CREATE TABLE IF NOT EXISTS switchyard_holds (
  id uuid PRIMARY KEY,
  member text NOT NULL,
  nano_usd bigint NOT NULL CHECK (nano_usd >= 0),
  expires_at timestamptz NOT NULL
);
DO $$ BEGIN
  -- Running totals per member; a ledger whose totals predate the member column has them rebuilt.
  IF to_regclass('switchyard_spend') IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'switchyard_spend' AND column_name = 'member'
  ) THEN
    DROP TABLE switchyard_spend;
  END IF;
  IF to_regclass('switchyard_spend') IS NULL THEN
    CREATE TABLE switchyard_spend (
      period text NOT NULL CHECK (period IN ('day', 'month')),
      starts timestamptz NOT NULL,
      member text NOT NULL,
      nano_usd bigint NOT NULL,
      PRIMARY KEY (period, starts, member)
    );
    INSERT INTO switchyard_spend (period, starts, member, nano_usd) ${SPEND_OF('switchyard_receipts')};
  END IF;
END $$;
CREATE OR REPLACE FUNCTION switchyard_count_spend() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO switchyard_spend (period, starts, member, nano_usd) ${SPEND_OF('new_receipts')}
  ON CONFLICT (period, starts, member) DO UPDATE SET nano_usd = switchyard_spend.nano_usd + EXCLUDED.nano_usd;
  RETURN NULL;
END $$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'switchyard_count_spend' AND tgrelid = 'switchyard_receipts'::regclass) THEN
    CREATE TRIGGER switchyard_count_spend AFTER INSERT ON switchyard_receipts
      REFERENCING NEW TABLE AS new_receipts FOR EACH STATEMENT EXECUTE FUNCTION switchyard_count_spend();
  END IF;
END $$;
CREATE TABLE IF NOT EXISTS switchyard_team_budgets (
  scope text PRIMARY KEY CHECK (scope IN ('day', 'month')),
  cap_nano_usd bigint NOT NULL CHECK (cap_nano_usd >= 0),
  set_by text NOT NULL,
  set_at timestamptz NOT NULL DEFAULT now()
);`;

/**
 * The team's spend this UTC day and month, live holds and caps: what a reservation and the status read.
 * Spend comes from running totals that a trigger keeps in the receipt's own transaction, a row per
 * member, so a reservation, which holds the team's lock while it reads, costs the same on the month's
 * first receipt and its millionth.
 */
const STANDING = `
SELECT
  (SELECT coalesce(sum(nano_usd), 0) FROM switchyard_spend WHERE period = 'day' AND starts = date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS day,
  (SELECT coalesce(sum(nano_usd), 0) FROM switchyard_spend WHERE period = 'month' AND starts = date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS month,
  (SELECT coalesce(sum(nano_usd), 0) FROM switchyard_holds WHERE expires_at > now()) AS held,
  (SELECT coalesce(json_agg(json_build_object('scope', scope, 'cap', cap_nano_usd, 'setBy', set_by)), '[]') FROM switchyard_team_budgets) AS caps,
  now() AS at`;

/** This month's spend per member, from the running totals (read at every refresh, so never a scan of the month). */
const MEMBERS = `
SELECT member, nano_usd AS spent FROM switchyard_spend
WHERE period = 'month' AND starts = date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
ORDER BY spent DESC, member`;

/** Receipts from a JSON array, each inserted once whoever sends it again. */
const INSERT_RECEIPTS = `
INSERT INTO switchyard_receipts (id, member, created_at, site, provider, model, workspace, client, outcome, cost_nano_usd, input_tokens, output_tokens, receipt)
SELECT (r->>'id')::uuid, $2, (r->>'createdAt')::timestamptz, r->'site'->>'id', r->'site'->>'provider', r->>'model', r->>'workspace', r->>'client', r->>'outcome',
  (r->'cost'->>'totalNanoUsd')::bigint, (r->'tokens'->>'input')::bigint, (r->'tokens'->>'output')::bigint, r
FROM jsonb_array_elements($1::jsonb) AS r
ON CONFLICT (id) DO NOTHING`;

interface Standing {
  day: number;
  month: number;
  held: number;
  caps: { scope: 'day' | 'month'; cap: number; setBy: string }[];
  /** The server's time when it was read: `day` and `month` are that UTC day's and month's. */
  at: number;
}

export interface TeamLedgerDeps {
  /** This daemon's receipts since a time, to catch the team ledger up after it was away. */
  receiptsSince(since: number): AsyncIterable<Receipt[]>;
  /** Status changed: the link, the team's spend or its budgets. */
  changed(): void;
  log: { info(message: string, fields?: object): void; warn(message: string, fields?: object): void };
  /** Who this daemon's receipts are recorded as. */
  member: string;
  /** The wall clock receipts' createdAt is read from (not the simulated fleet's); Date.now unless a test sets it. */
  clock?: Clock;
}

const real = (r: Receipt) => !r.site.simulated;

/** What jsonb cannot hold: NUL, and a surrogate without its other half (a valid pair is one code point here). */
const UNSTORABLE = /[\0\p{Cs}]/gu;

/**
 * Receipts as the insert's JSON parameter. jsonb refuses a NUL (\u0000) and half a surrogate pair,
 * which an upstream's garbled error text brings into a receipt (a JSON.parse message quoting a NUL, a
 * body cut at 500 characters in the middle of an emoji): sent as they are, the insert fails, and so
 * does every catch-up that sends that receipt again, keeping the link down for two months. Each such
 * character goes in as U+FFFD; the file ledger keeps the receipt as it was.
 */
function receiptsJson(receipts: Receipt[]): string {
  return JSON.stringify(receipts, (_key, value: unknown) => (typeof value === 'string' ? value.replace(UNSTORABLE, '\uFFFD') : value));
}

/**
 * Where a catch-up starts when this daemon cannot know what the team ledger has (it has not caught up
 * since it started): the start of the previous UTC month. The team's periods are UTC months, and a
 * daemon stopped while the ledger was away and started in the next month still owes the end of the
 * last one. No further: this catch-up runs at every start, before paid requests can be held, so it
 * reads and sends two months of receipts at most, not the years a file ledger may hold.
 */
function unknownSince(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1);
}

export class TeamLedger {
  private readonly pool: pg.Pool;
  private listener: pg.Client | null = null;
  private readonly server: string;
  private readonly member: string;
  private readonly clock: Clock;
  private state: TeamLedgerStatus['state'] = 'connecting';
  private error: string | null = null;
  private standing: Standing = { day: 0, month: 0, held: 0, caps: [], at: 0 };
  /** Whether `standing.caps` has been read at least once. */
  private capsKnown = false;
  private members: TeamLedgerStatus['members'] = [];
  /**
   * Every real-site receipt of this daemon created before this time was in the team ledger, or being
   * sent by its record(), when the last catch-up ended; undefined until one has.
   */
  private caughtUpTo: number | undefined;
  /** The earliest receipt that could not be sent since the last catch-up began (Infinity: none): it waits in the file ledger. */
  private missedSince = Infinity;
  private readonly holds = new Set<TeamHold>();
  private retryMs = 1000;
  private retryTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly url: string, private readonly deps: TeamLedgerDeps) {
    this.server = teamServerOf(url, 'postgres');
    this.member = deps.member;
    this.clock = deps.clock ?? Date.now;
    this.pool = new pg.Pool({
      connectionString: url, max: 4, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000, query_timeout: QUERY_TIMEOUT_MS, application_name: 'switchyard',
    });
    // An idle client's error (the server restarted) is not a request's: the next query reconnects.
    this.pool.on('error', (error) => this.unreachable(error));
  }

  /** Connects, and keeps trying while the server is away: status() says how it goes. */
  start(): void {
    void this.connect();
  }

  status(): TeamLedgerStatus {
    const { day, month, held, caps } = this.standing;
    const budgets: TeamBudgetStatus[] = caps.map(({ scope, cap, setBy }) => {
      const spent = scope === 'day' ? day : month;
      const state = spent >= cap ? 'exceeded' : spent + held >= cap * WARN_RATIO ? 'warn' : 'ok';
      return { scope, capNanoUsd: cap, spentNanoUsd: spent, reservedNanoUsd: held, state, setBy };
    });
    return {
      state: this.state, server: this.server, error: this.error, member: this.member,
      spentTodayNanoUsd: day, spentMonthNanoUsd: month, reservedNanoUsd: held, budgets, members: this.members, behind: this.behind,
    };
  }

  /**
   * Least headroom under the team's budgets as last read (placement passes over real sites whose worst
   * case exceeds it); undefined with no budgets. The hold checks again, in the transaction.
   */
  remainingNanoUsd(): number | undefined {
    const { day, month, held, caps } = this.standing;
    if (caps.length === 0) return undefined;
    return Math.max(0, Math.min(...caps.map(({ scope, cap }) => cap - (scope === 'day' ? day : month) - held)));
  }

  /**
   * Holds a real-site request's worst case against the team's budgets; null when the team has none.
   * Throws BudgetExceededError (team: true) when it does not fit, TeamLedgerUnavailableError when the
   * team may have budgets and the ledger cannot be reached to check them.
   */
  async hold(worstCaseNanoUsd: number): Promise<TeamHold | null> {
    // Known to have no budgets, as of the last change this daemon was told of: no transaction on the
    // request's path, and nothing to enforce while the ledger is away.
    if (this.capsKnown && this.standing.caps.length === 0) return null;
    if (this.state !== 'connected') throw this.unavailable();
    const hold: TeamHold = { id: crypto.randomUUID(), nanoUsd: worstCaseNanoUsd };
    const held = await this.reserve(hold);
    if (held) this.holds.add(hold);
    return held ? hold : null;
  }

  /** Failover: the same hold, re-checked for the next site's worst case plus what was spent. */
  async resize(hold: TeamHold, nanoUsd: number): Promise<void> {
    await this.reserve({ id: hold.id, nanoUsd });
    hold.nanoUsd = nanoUsd;
  }

  /** The receipt joins the team ledger and its hold goes, in one statement. Never throws: a failure is caught up later. */
  async record(receipt: Receipt, hold: TeamHold | null): Promise<void> {
    if (hold) this.holds.delete(hold);
    if (!real(receipt)) return this.release(hold);
    try {
      await this.pool.query(
        `WITH ins AS (${INSERT_RECEIPTS}), del AS (DELETE FROM switchyard_holds WHERE id = $3) SELECT pg_notify('${NOTIFY_CHANNEL}', $2)`,
        [receiptsJson([receipt]), this.member, hold?.id ?? null],
      );
      this.settled(hold, receipt.cost.totalNanoUsd);
    } catch (error) {
      // The file ledger has it; the next connection sends it. The hold expires with its lease.
      this.missed(Date.parse(receipt.createdAt));
      this.unreachable(error as Error);
    }
  }

  /** The request produced nothing billable: its hold goes. */
  async release(hold: TeamHold | null): Promise<void> {
    if (!hold) return;
    this.holds.delete(hold);
    await this.pool.query(`WITH del AS (DELETE FROM switchyard_holds WHERE id = $1) SELECT pg_notify('${NOTIFY_CHANNEL}', $2)`, [hold.id, this.member]).then(
      () => this.settled(hold, 0),
      () => {},
    );
  }

  /**
   * This daemon's own hold left the ledger, with what it spent: the standing placement reads says so at
   * once rather than after the refresh its notification brings.
   */
  private settled(hold: TeamHold | null, spentNanoUsd: number): void {
    const { day, month, held } = this.standing;
    this.standing = { ...this.standing, day: day + spentNanoUsd, month: month + spentNanoUsd, held: Math.max(0, held - (hold?.nanoUsd ?? 0)) };
  }

  /** Sets or (null) removes one of the team's budgets. */
  async setBudget(scope: 'day' | 'month', capUsd: number | null): Promise<void> {
    if (this.state !== 'connected') throw this.unavailable();
    if (capUsd === null) {
      await this.pool.query(`WITH del AS (DELETE FROM switchyard_team_budgets WHERE scope = $1) SELECT pg_notify('${NOTIFY_CHANNEL}', $2)`, [scope, this.member]);
    } else {
      await this.pool.query(
        `WITH up AS (INSERT INTO switchyard_team_budgets (scope, cap_nano_usd, set_by) VALUES ($1, $2, $3)
           ON CONFLICT (scope) DO UPDATE SET cap_nano_usd = EXCLUDED.cap_nano_usd, set_by = EXCLUDED.set_by, set_at = now())
         SELECT pg_notify('${NOTIFY_CHANNEL}', $3)`,
        [scope, Math.round(capUsd * 1e9), this.member],
      );
    }
    await this.refresh();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.renewTimer);
    clearTimeout(this.refreshTimer);
    await this.connecting?.catch(() => {});
    const holds = [...this.holds].map((h) => h.id);
    if (holds.length && this.state === 'connected') await this.pool.query('DELETE FROM switchyard_holds WHERE id = ANY($1::uuid[])', [holds]).catch(() => {});
    await Promise.allSettled([this.listener?.end(), this.pool.end()]);
  }

  private unavailable(): TeamLedgerUnavailableError {
    const why = this.state === 'connecting' ? 'is still connecting' : `is unreachable (${this.error ?? 'no answer'})`;
    return new TeamLedgerUnavailableError(`the team's budgets cannot be checked: the team ledger at ${this.server} ${why}`);
  }

  /**
   * One transaction in two round trips: lock and read the team's standing, then (when the request fits
   * under every cap) add or grow the hold and commit. Commits without waiting for the WAL flush: a hold
   * is a lease that a crash of the database may lose, which frees nothing that was spent, and the lock
   * still orders every reservation. The lock is held for one round trip and the check.
   */
  private async reserve(hold: TeamHold): Promise<boolean> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      this.unreachable(error as Error);
      throw this.unavailable();
    }
    const release = this.checkedOut(client);
    let failure: Error | undefined;
    try {
      const results = (await client.query(
        `BEGIN; SET LOCAL synchronous_commit TO off; SET LOCAL lock_timeout = '${RESERVE_LOCK_WAIT}'; SET LOCAL idle_in_transaction_session_timeout = '${RESERVE_IDLE}';
         SELECT pg_advisory_xact_lock(${RESERVE_LOCK}); ${STANDING};
         SELECT coalesce(sum(nano_usd), 0) AS own FROM switchyard_holds WHERE id = ${client.escapeLiteral(hold.id)} AND expires_at > now()`,
      )) as unknown as pg.QueryResult[];
      const standing = parseStanding(results[results.length - 2].rows[0]);
      this.standing = standing;
      this.capsKnown = true;
      if (standing.caps.length === 0) {
        await client.query('COMMIT');
        return false;
      }
      // A resize replaces the request's own hold: it does not count against itself. What the ledger
      // holds for it, not what this daemon last asked for: a lapsed lease (or a database that lost an
      // unflushed hold) holds nothing, and subtracting it anyway would admit more than the caps allow.
      const held = standing.held - Number(results[results.length - 1].rows[0].own);
      for (const { scope, cap } of standing.caps) {
        const spent = scope === 'day' ? standing.day : standing.month;
        if (spent + held + hold.nanoUsd > cap) {
          await client.query('ROLLBACK');
          throw new BudgetExceededError({
            kind: 'budget', team: true, scope, capNanoUsd: cap, spentNanoUsd: spent, reservedNanoUsd: held,
            remainingNanoUsd: Math.max(0, cap - spent - held), worstCaseNanoUsd: hold.nanoUsd,
          });
        }
      }
      // Literals, not parameters: a statement with parameters cannot share its round trip with COMMIT.
      await client.query(
        `INSERT INTO switchyard_holds (id, member, nano_usd, expires_at)
         VALUES (${client.escapeLiteral(hold.id)}, ${client.escapeLiteral(this.member)}, ${Math.round(hold.nanoUsd)}, now() + interval '${HOLD_LEASE_S} seconds')
         ON CONFLICT (id) DO UPDATE SET nano_usd = EXCLUDED.nano_usd, expires_at = EXCLUDED.expires_at; COMMIT`,
      );
      this.standing = { ...standing, held: held + hold.nanoUsd };
      return true;
    } catch (error) {
      if (error instanceof BudgetExceededError) throw error;
      // Closed, not returned: its transaction or its connection is in a state nobody knows (a query that
      // timed out is still running there). The server rolls back what the connection leaves.
      failure = error as Error;
      if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) throw this.lockBusy();
      this.unreachable(failure);
      throw this.unavailable();
    } finally {
      release(failure);
    }
  }

  /**
   * Hears a client's error while it is out of the pool, and returns its release (with an error, the
   * client is closed). The pool listens only to idle clients: a checked-out client whose connection
   * ends (a server restart, a failover, an administrator) emits an error that nobody would hear, an
   * uncaught exception that takes the daemon down.
   */
  private checkedOut(client: pg.PoolClient): (error?: Error) => void {
    const onError = (error: Error) => this.unreachable(error);
    client.on('error', onError);
    return (error) => {
      client.off('error', onError);
      client.release(error);
    };
  }

  /** The team's lock stayed taken past the wait: this request is refused, and the link is fine. */
  private lockBusy(): TeamLedgerUnavailableError {
    return new TeamLedgerUnavailableError(
      `the team's budgets cannot be checked: another reservation held the team's lock at ${this.server} for over ${RESERVE_LOCK_WAIT}`,
    );
  }

  private connect(): Promise<void> {
    // A failed attempt is reported once it is over: unreachable() schedules the next attempt only when
    // none is under way, so reported from within the attempt it would schedule none, ever.
    this.connecting ??= this.establish().then(
      () => void (this.connecting = null),
      (error: Error) => {
        this.connecting = null;
        this.unreachable(error);
      },
    );
    return this.connecting;
  }

  /**
   * Schema, LISTEN, the team's standing, then this daemon's missing receipts: connected once all are
   * done. Throws when one fails; connect() reports it.
   */
  private async establish(): Promise<void> {
    await this.migrate();
    await this.listen();
    await this.catchUp();
    await this.readStanding();
    if (this.closed) return;
    this.state = 'connected';
    this.error = null;
    this.retryMs = 1000;
    this.renewTimer ??= setInterval(() => void this.renew(), RENEW_MS).unref();
    this.deps.log.info('team ledger connected', { server: this.server, member: this.member });
    this.deps.changed();
  }

  /** Brings the schema to this version, under the team's lock (which it holds as long as a reservation's, idle or not). */
  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    const release = this.checkedOut(client);
    let failure: Error | undefined;
    try {
      await client.query(`BEGIN; SET LOCAL idle_in_transaction_session_timeout = '${RESERVE_IDLE}'`);
      // The lock may wait for a teammate's migration, as long as the migration may take. pg reads
      // query_timeout from a query's config, which its types leave out.
      await client.query({ text: 'SELECT pg_advisory_xact_lock($1)', values: [RESERVE_LOCK], query_timeout: SCHEMA_TIMEOUT_MS } as pg.QueryConfig);
      await client.query({ text: SCHEMA, query_timeout: SCHEMA_TIMEOUT_MS } as pg.QueryConfig);
      await client.query('COMMIT');
    } catch (error) {
      // Closed rather than rolled back: the server rolls back what the connection leaves, and a
      // connection that failed may not answer a ROLLBACK either.
      failure = error as Error;
      throw error;
    } finally {
      release(failure);
    }
  }

  private async listen(): Promise<void> {
    const previous = this.listener;
    this.listener = null;
    await previous?.end().catch(() => {});
    const listener = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000, query_timeout: QUERY_TIMEOUT_MS, application_name: 'switchyard' });
    listener.on('error', (error) => this.unreachable(error));
    listener.on('end', () => this.listener === listener && !this.closed && this.unreachable(new Error('connection ended')));
    // Another member spent, held or set a budget: read the standing again, a few changes at a time.
    listener.on('notification', () => {
      this.refreshTimer ??= setTimeout(() => {
        this.refreshTimer = undefined;
        void this.refresh();
      }, REFRESH_MS);
    });
    this.listener = listener;
    await listener.connect();
    await listener.query(`LISTEN ${NOTIFY_CHANNEL}`);
  }

  /** A receipt could not be sent to the team ledger, or a catch-up from this time failed. */
  private missed(createdAt: number): void {
    this.missedSince = Math.min(this.missedSince, createdAt);
  }

  /** Whether receipts wait in the file ledger for a catch-up. */
  private get behind(): boolean {
    return this.missedSince !== Infinity;
  }

  /**
   * Sends this daemon's real-site receipts that the team ledger may lack: those since the last catch-up
   * (since unknownSince after a start) or since the earliest that could not be sent, whichever is
   * earlier. Those already there are skipped.
   */
  private async catchUp(): Promise<void> {
    const started = this.clock();
    const since = Math.min(this.caughtUpTo ?? unknownSince(started), this.missedSince);
    // A receipt that fails from now on may be one this catch-up does not read: it is the next one's.
    this.missedSince = Infinity;
    try {
      await this.sendSince(since);
    } catch (error) {
      this.missed(since);
      throw error;
    }
    this.caughtUpTo = started;
  }

  /** This daemon's real-site receipts created at or after `since`, CATCH_UP_BATCH to an insert. */
  private async sendSince(since: number): Promise<void> {
    let batch: Receipt[] = [];
    const send = async () => {
      if (batch.length) await this.pool.query(INSERT_RECEIPTS, [receiptsJson(batch), this.member]);
      batch = [];
    };
    for await (const receipts of this.deps.receiptsSince(since)) {
      for (const r of receipts) {
        if (!real(r)) continue;
        batch.push(r);
        if (batch.length === CATCH_UP_BATCH) await send();
      }
    }
    await send();
  }

  private async readStanding(): Promise<void> {
    const [standing, members] = await Promise.all([this.pool.query(STANDING), this.pool.query(MEMBERS)]);
    this.standing = parseStanding(standing.rows[0]);
    this.capsKnown = true;
    this.members = members.rows.map((r) => ({ member: String(r.member), spentMonthNanoUsd: Number(r.spent) }));
  }

  private async refresh(): Promise<void> {
    try {
      if (this.behind) await this.catchUp();
      await this.readStanding();
      this.deps.changed();
    } catch (error) {
      this.unreachable(error as Error);
    }
  }

  /**
   * Keeps this daemon's live holds from expiring while their requests run, and clears leases that did
   * (a daemon died). And reads the standing again once the UTC day has turned since it was read: a
   * quiet team sends no notification at midnight, and yesterday's spend would stay today's (a daily cap
   * shown reached, placement passing over every real site) until somebody spent.
   */
  private async renew(): Promise<void> {
    if (this.state !== 'connected') return;
    if (Math.floor(this.clock() / DAY_MS) !== Math.floor(this.standing.at / DAY_MS)) void this.refresh();
    const ids = [...this.holds].map((h) => h.id);
    await this.pool
      .query(
        `WITH renewed AS (UPDATE switchyard_holds SET expires_at = now() + make_interval(secs => $2) WHERE id = ANY($1::uuid[]))
         DELETE FROM switchyard_holds WHERE expires_at < now() - interval '1 minute'`,
        [ids, HOLD_LEASE_S],
      )
      .catch((error: Error) => this.unreachable(error));
  }

  private unreachable(error: Error): void {
    if (this.closed) return;
    const message = error.message || String(error);
    const changed = this.state !== 'unreachable' || this.error !== message;
    this.state = 'unreachable';
    this.error = message;
    if (changed) {
      this.deps.log.warn('team ledger unreachable; retrying', { server: this.server, error: message });
      this.deps.changed();
    }
    if (!this.retryTimer && !this.connecting) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.connect();
      }, this.retryMs);
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    }
  }
}

function parseStanding(row: Record<string, unknown>): Standing {
  const caps = (row.caps as { scope: 'day' | 'month'; cap: string | number; setBy: string }[]).map((c) => ({ scope: c.scope, cap: Number(c.cap), setBy: c.setBy }));
  return { day: Number(row.day), month: Number(row.month), held: Number(row.held), caps, at: new Date(row.at as Date | string).getTime() };
}
