// The team part of the daemon: whether, and where, this daemon shares site telemetry (the team's
// Redis) and its ledger and budgets (the team's PostgreSQL) with its team's other daemons. Set from the
// editor (the URLs are kept in its SecretStorage, as keys are) or from the environment of a standalone
// daemon; held in memory only.

import os from 'node:os';
import type { Receipt, SetTeamParams, TeamLedgerStatus, TeamStatus } from '../protocol';
import type { Redactor } from '../log/redact';
import { MAX_CAP_USD } from '../meter/budgets';
import type { SiteObservation } from '../engine/telemetry';
import type * as SharedTelemetryModule from './sharedTelemetry';
import type { SharedTelemetry, SharedTelemetryDeps, TelemetryMemory } from './sharedTelemetry';
import type * as TeamLedgerModule from './ledger';
import type { TeamLedger, TeamLedgerDeps } from './ledger';
import type { TeamHold } from './hold';
import { teamUrlProblem, teamUrlSecrets, type TeamServer } from './url';

export { TeamLedgerUnavailableError, type TeamHold } from './hold';

export const TEAM_URL_ENV = 'SWITCHYARD_TEAM_REDIS_URL';
export const TEAM_LEDGER_URL_ENV = 'SWITCHYARD_TEAM_POSTGRES_URL';
/** Who this daemon's receipts are recorded as in the team ledger; user@host when unset. */
export const TEAM_MEMBER_ENV = 'SWITCHYARD_TEAM_MEMBER';

const TELEMETRY_OFF = { telemetry: 'off', server: null, peers: 0, published: 0, received: 0, error: null } as const;

export class TeamProblem extends Error {}

/** user@host: who a daemon's receipts are recorded as when the team has not named its members. */
export function defaultMember(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // A user without a passwd entry (some containers) is still a member.
  }
  return `${user}@${os.hostname()}`;
}

type TeamDeps = Omit<SharedTelemetryDeps, 'changed'> & Omit<TeamLedgerDeps, 'changed' | 'member'> & { member?: string; redactor: Redactor };

/** One part shared with the team: the URL in use and what serves it, replaced whole when the URL changes. */
class Link<T extends { start(): void; close(): Promise<void> }> {
  private url: string | null = null;
  part: T | null = null;

  constructor(private readonly make: (url: string) => T) {}

  /** Whether anything changed: the same URL keeps the link it has, left out (undefined) keeps whatever is set. */
  async set(url: string | null | undefined): Promise<boolean> {
    if (url === undefined || url === this.url) return false;
    this.url = url;
    const previous = this.part;
    this.part = null;
    await previous?.close();
    // Another set() while the previous part closed has the last word: its URL is the one to serve.
    if (url !== null && this.url === url && !this.part) {
      this.part = this.make(url);
      this.part.start();
    }
    return true;
  }
}

export class Team {
  private readonly telemetry: Link<SharedTelemetry>;
  private readonly ledgerLink: Link<TeamLedger>;
  private readonly member: string;
  private readonly listeners = new Set<(status: TeamStatus) => void>();
  private readonly deps: TeamDeps & { changed(): void };
  /** One for the daemon, kept across its telemetry links: each new link replays what the last ones learned. */
  private telemetryMemory: TelemetryMemory | undefined;

  constructor(deps: TeamDeps) {
    this.deps = { ...deps, changed: () => this.changed() };
    this.member = deps.member ?? (process.env[TEAM_MEMBER_ENV]?.trim() || defaultMember());
    // Each part's module, and the Redis or PostgreSQL client with it, loads when its first URL is set:
    // most daemons never have one, and loading both clients takes a sixth of a daemon's start.
    this.telemetry = new Link((url) => {
      const { SharedTelemetry, TelemetryMemory } = require('./sharedTelemetry') as typeof SharedTelemetryModule;
      this.telemetryMemory ??= new TelemetryMemory();
      return new SharedTelemetry(this.protect(url), { ...this.deps, memory: this.telemetryMemory });
    });
    this.ledgerLink = new Link((url) => {
      const { TeamLedger } = require('./ledger') as typeof TeamLedgerModule;
      return new TeamLedger(this.protect(url), { ...this.deps, member: this.member });
    });
  }

  /** Told the status after each change (set, stopped, a link up or down, the team's spend). Returns an unsubscribe function. */
  onChange(listener: (status: TeamStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sets what the params name (a field left out keeps what is set, null stops it). Both URLs are
   * checked first: a bad one throws TeamProblem and changes nothing.
   */
  async set(params: SetTeamParams): Promise<TeamStatus> {
    const telemetryUrl = checked(params.telemetryUrl, 'telemetryUrl', 'redis');
    const ledgerUrl = checked(params.ledgerUrl, 'ledgerUrl', 'postgres');
    // Every window sends its stored URLs when it (re)connects: the same URL keeps the link it has.
    const changed = [await this.telemetry.set(telemetryUrl), await this.ledgerLink.set(ledgerUrl)].includes(true);
    if (changed) this.changed();
    return this.status();
  }

  publish(observation: SiteObservation): void {
    this.telemetry.part?.publish(observation);
  }

  /** Whether requests to real sites must be held against the team's budgets first. */
  get keepsLedger(): boolean {
    return this.ledger !== null;
  }

  /** Least headroom under the team's budgets as last read; undefined without a ledger or budgets. Cheap: per request. */
  remainingNanoUsd(): number | undefined {
    return this.ledger?.remainingNanoUsd();
  }

  /** See TeamLedger.hold; null without a team ledger. */
  hold(worstCaseNanoUsd: number): Promise<TeamHold | null> {
    return this.ledger ? this.ledger.hold(worstCaseNanoUsd) : Promise.resolve(null);
  }

  async resize(hold: TeamHold, nanoUsd: number): Promise<void> {
    await this.ledger?.resize(hold, nanoUsd);
  }

  /** A hold whose request was never sent. */
  async release(hold: TeamHold | null): Promise<void> {
    await this.ledger?.release(hold);
  }

  /** The receipt goes to the team ledger (real sites), and the hold with it. */
  async record(receipt: Receipt, hold: TeamHold | null): Promise<void> {
    await this.ledger?.record(receipt, hold);
  }

  async setBudget(scope: unknown, capUsd: unknown): Promise<TeamStatus> {
    if (scope !== 'day' && scope !== 'month') throw new TeamProblem('scope must be "day" or "month"');
    // The same bound as a cap of one's own: nano-USD stay exact integers, and the ledger's column holds them.
    if (capUsd !== null && !(typeof capUsd === 'number' && capUsd >= 0 && capUsd <= MAX_CAP_USD)) throw new TeamProblem(`capUsd must be a number from 0 to ${MAX_CAP_USD} (USD), or null to remove the budget`);
    if (!this.ledger) throw new TeamProblem('no team ledger is set: connect one first (ledgerUrl)');
    await this.ledger.setBudget(scope, capUsd);
    return this.status();
  }

  status(): TeamStatus {
    return { ...(this.telemetry.part?.status() ?? TELEMETRY_OFF), ledger: this.ledger?.status() ?? this.ledgerOff() };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.all([this.telemetry.set(null), this.ledgerLink.set(null)]);
  }

  private ledgerOff(): TeamLedgerStatus {
    return { state: 'off', server: null, error: null, member: this.member, spentTodayNanoUsd: 0, spentMonthNanoUsd: 0, reservedNanoUsd: 0, budgets: [], members: [], behind: false };
  }

  /** Masks the URL's secrets in every log line from now on; returns the URL. */
  private protect(url: string): string {
    for (const secret of teamUrlSecrets(url)) this.deps.redactor.add(secret);
    return url;
  }

  private get ledger(): TeamLedger | null {
    return this.ledgerLink.part;
  }

  private changed(): void {
    const status = this.status();
    for (const listener of this.listeners) listener(status);
  }
}

/** A setTeam field: undefined (left out), null (stop), or a usable URL, trimmed; TeamProblem otherwise. */
function checked(value: unknown, name: string, server: TeamServer): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw new TeamProblem(`${name} must be a string or null`);
  const url = value.trim();
  const problem = teamUrlProblem(url, server);
  if (problem) throw new TeamProblem(`${name} ${problem}`);
  return url;
}
