// Budget caps and reservations. A request reserves its worst-case cost against every cap that
// applies to it (day, month, its workspace) before anything is sent; the reservation is released
// once its receipt is durable and counted as spend, or when the request fails. Check and add happen
// in one synchronous call with no await between them, and Node runs one call at a time, so N
// concurrent requests cannot all see the same headroom: together they never overshoot a cap.
//
// A workspace cap covers that workspace's spend in the current calendar month; a day or month cap
// covers every workspace's spend, so it takes no `workspace`.

import { ErrorCodes, type BudgetCap, type BudgetExceededData, type BudgetScope, type BudgetStatus } from '../protocol';
import { formatUsd } from './pricing';

export class BudgetExceededError extends Error {
  readonly code = ErrorCodes.BudgetExceeded;
  constructor(readonly data: BudgetExceededData) {
    super(describe(data));
    this.name = 'BudgetExceededError';
  }
}

function capLabel(scope: BudgetScope, workspace?: string): string {
  return scope === 'day' ? 'Daily' : scope === 'month' ? 'Monthly' : `Workspace "${workspace}" monthly`;
}

function describe(d: BudgetExceededData): string {
  const reached = d.spentNanoUsd + d.reservedNanoUsd >= d.capNanoUsd ? 'reached' : 'would be exceeded';
  return `${d.team ? 'Team ' : ''}${capLabel(d.scope, d.workspace)}${d.team ? ' (UTC)' : ''} budget ${formatUsd(d.capNanoUsd)} ${reached}: spent ${formatUsd(d.spentNanoUsd)}, ` +
    `reserved ${formatUsd(d.reservedNanoUsd)}, remaining ${formatUsd(d.remainingNanoUsd)}; ` +
    `this request could cost up to ${formatUsd(d.worstCaseNanoUsd)}`;
}

/** The largest cap whose nano-USD is still an exact integer: any more would reach the wire as null. */
export const MAX_CAP_USD = Math.floor(Number.MAX_SAFE_INTEGER / 1e9);

const CAP_FIELDS = ['scope', 'workspace', 'capUsd', 'softRatio'];

/** Why one cap cannot be used (a sentence naming the field, `at` being the cap's own name), or null. */
function capProblem(c: unknown, at: string): string | null {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return `${at} must be a budget cap object (${CAP_FIELDS.join(', ')})`;
  const stray = Object.keys(c).find((key) => !CAP_FIELDS.includes(key));
  if (stray !== undefined) return `${at}.${stray} is not a field of a budget cap (known: ${CAP_FIELDS.join(', ')})`;
  const cap = c as Partial<BudgetCap>;
  if (!['day', 'month', 'workspace'].includes(cap.scope as string)) return `${at}.scope must be "day", "month" or "workspace"`;
  if (!(typeof cap.capUsd === 'number' && cap.capUsd >= 0 && cap.capUsd <= MAX_CAP_USD)) return `${at}.capUsd must be a number from 0 to ${MAX_CAP_USD} (USD)`;
  if (!(typeof cap.softRatio === 'number' && cap.softRatio >= 0 && cap.softRatio <= 1)) return `${at}.softRatio must be between 0 and 1`;
  if (cap.scope === 'workspace' && !(typeof cap.workspace === 'string' && cap.workspace.trim() !== '')) return `${at}.workspace is required for scope "workspace"`;
  // Shown as the global cap while counting one workspace, it would let the global cap be overrun.
  if (cap.scope !== 'workspace' && cap.workspace !== undefined) return `${at}.workspace is only for scope "workspace": a ${cap.scope} cap covers every workspace`;
  return null;
}

/** Each refused cap's problem by index: its own, or that it repeats an earlier good cap. */
function capProblems(caps: readonly unknown[], field: string): Map<number, string> {
  const problems = new Map<number, string>();
  const seen = new Set<string>();
  caps.forEach((c, i) => {
    const at = `${field}[${i}]`;
    const problem = capProblem(c, at);
    if (problem) return void problems.set(i, problem);
    const { scope, workspace } = c as BudgetCap;
    const key = `${scope}\n${scope === 'workspace' ? workspace : ''}`;
    if (seen.has(key)) return void problems.set(i, `${at} repeats the ${scope} cap${workspace ? ` of "${workspace}"` : ''}`);
    seen.add(key);
  });
  return problems;
}

/** Throws a plain Error naming the bad field (as `field[i].name`); changes nothing. */
export function validateCaps(caps: readonly BudgetCap[], field = 'caps'): void {
  if (!Array.isArray(caps)) throw new Error(`${field} must be an array`);
  const [first] = capProblems(caps, field).values();
  if (first !== undefined) throw new Error(first);
}

/**
 * Saved caps without the `workspace` on a day or month cap that validateCaps now refuses (it was once
 * accepted and saved): a settings file from then must not stop the daemon from starting.
 */
export function withoutStrayWorkspace(caps: readonly BudgetCap[], log?: (message: string) => void): readonly BudgetCap[] {
  if (!Array.isArray(caps)) return caps;
  return caps.map((c) => {
    if (!c || c.scope === 'workspace' || c.workspace === undefined) return c;
    log?.(`budget caps: the ${c.scope} cap covers every workspace; its workspace "${c.workspace}" is ignored`);
    const { workspace: _, ...global } = c;
    return global;
  });
}

/**
 * The saved caps a daemon can start with. A cap validateCaps now refuses (saved by an older version,
 * edited by hand) is dropped and told to `log`, the others kept: refusing them all would stop the
 * daemon from starting, or leave the user without the caps that were fine.
 */
export function usableCaps(caps: readonly BudgetCap[], log: (message: string) => void): BudgetCap[] {
  const fixed = withoutStrayWorkspace(caps, log);
  const problems = capProblems(fixed, 'caps');
  for (const problem of problems.values()) log(`budget caps: ${problem}; that cap is dropped`);
  return fixed.filter((_, i) => !problems.has(i));
}

/** Spend so far that a cap covers (today, this month, or the workspace this month). */
export type SpentFor = (cap: BudgetCap) => number;

export class Reservation {
  private held: number;
  private done = false;

  constructor(private readonly budgets: Budgets, readonly workspace: string | undefined, amount: number) {
    this.held = amount;
  }

  get nanoUsd(): number {
    return this.held;
  }

  get released(): boolean {
    return this.done;
  }

  /**
   * Re-checks the same reservation for a new worst case (a failover to another site). Growing it is
   * checked against every cap and throws BudgetExceededError, leaving the reservation as it was;
   * shrinking it always succeeds.
   */
  resize(worstCaseNanoUsd: number): void {
    if (this.done) throw new Error('reservation already released');
    this.budgets.adjust(this, this.held, checkedAmount(worstCaseNanoUsd));
    this.held = worstCaseNanoUsd;
  }

  /**
   * The answer is over and cost what it cost: hold exactly that until its receipt is counted as spend.
   * The worst case held until then would refuse a client's next request for an answer it already has;
   * a bill above the worst case is held unchecked, since that money is spent either way.
   */
  settle(costNanoUsd: number): void {
    if (this.done) return;
    this.budgets.adjust(this, this.held, checkedAmount(costNanoUsd), false);
    this.held = costNanoUsd;
  }

  /** Idempotent. */
  release(): void {
    if (this.done) return;
    this.done = true;
    this.budgets.adjust(this, this.held, 0);
    this.held = 0;
  }
}

function checkedAmount(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error('worst case must be a non-negative integer of nano-USD');
  return n;
}

/** The caps a view for `workspace` shows: all of them without a workspace, else the global ones and its own. */
function shown(cap: BudgetCap, workspace: string | undefined): boolean {
  return workspace === undefined || applies(cap, workspace);
}

/** The caps a request booked to `workspace` is held to: the global ones, and its own workspace's. */
function applies(cap: BudgetCap, workspace: string | undefined): boolean {
  return cap.scope !== 'workspace' || cap.workspace === workspace;
}

/**
 * The caps after an editor window sends its own: the global caps and its workspace's are replaced, other
 * workspaces' caps kept. Every window shares the daemon and knows only its own workspace's cap, so
 * replacing everything would drop the others' at each window's settings push. `window` undefined (a
 * client that names no window): the caps sent are all there is.
 */
export function capsFromWindow(current: readonly BudgetCap[], sent: readonly BudgetCap[], window: string | null | undefined): BudgetCap[] {
  if (window === undefined) return [...sent];
  const named = new Set(sent.flatMap((c) => (c.scope === 'workspace' && c.workspace !== undefined ? [c.workspace] : [])));
  const kept = current.filter((c) => c.scope === 'workspace' && c.workspace !== window && !named.has(c.workspace!));
  return [...sent, ...kept];
}

export class Budgets {
  private caps: BudgetCap[] = [];
  private reservedAll = 0;
  private readonly reservedByWorkspace = new Map<string, number>();

  constructor(private readonly spentFor: SpentFor) {}

  setCaps(caps: readonly BudgetCap[]): void {
    validateCaps(caps);
    this.caps = caps.map((c) => ({ ...c }));
  }

  getCaps(): BudgetCap[] {
    return this.caps.map((c) => ({ ...c }));
  }

  /** All-or-nothing against every applicable cap; throws BudgetExceededError. */
  reserve(worstCaseNanoUsd: number, workspace?: string): Reservation {
    const reservation = new Reservation(this, workspace, 0);
    reservation.resize(checkedAmount(worstCaseNanoUsd));
    return reservation;
  }

  /** Outstanding reservations, all of them or one workspace's. */
  reserved(workspace?: string): number {
    return workspace === undefined ? this.reservedAll : this.reservedByWorkspace.get(workspace) ?? 0;
  }

  statuses(workspace?: string): BudgetStatus[] {
    return this.caps
      .filter((c) => shown(c, workspace))
      .map((c) => {
        const capNanoUsd = Math.round(c.capUsd * 1e9);
        const spentNanoUsd = this.spentFor(c);
        const state = spentNanoUsd >= capNanoUsd ? 'exceeded' : spentNanoUsd >= c.softRatio * capNanoUsd ? 'warn' : 'ok';
        return {
          scope: c.scope,
          ...(c.workspace !== undefined && c.scope === 'workspace' ? { workspace: c.workspace } : {}),
          capNanoUsd, softRatio: c.softRatio, spentNanoUsd, reservedNanoUsd: this.reservedFor(c), state,
        };
      });
  }

  /**
   * The least headroom (cap - spent - reserved, at least 0) under the caps a request booked to
   * `workspace` is held to, or undefined with none: what placement may spend. A request without a
   * workspace is held to the global caps only, as its reservation is.
   */
  remaining(workspace?: string): number | undefined {
    let least: number | undefined;
    for (const c of this.caps) {
      if (!applies(c, workspace)) continue;
      const headroom = Math.max(0, Math.round(c.capUsd * 1e9) - this.spentFor(c) - this.reservedFor(c));
      if (least === undefined || headroom < least) least = headroom;
    }
    return least;
  }

  /** Called by Reservation only. Synchronous on purpose: the check and the add are one step. */
  adjust(r: Reservation, from: number, to: number, checked = true): void {
    const delta = to - from;
    if (checked && delta > 0) {
      for (const cap of this.caps) {
        if (!applies(cap, r.workspace)) continue;
        const capNanoUsd = Math.round(cap.capUsd * 1e9);
        const spentNanoUsd = this.spentFor(cap);
        // Others' reservations: this one's current hold is not counted against itself.
        const reservedNanoUsd = this.reservedFor(cap) - from;
        if (spentNanoUsd + reservedNanoUsd + to > capNanoUsd) {
          throw new BudgetExceededError({
            kind: 'budget', scope: cap.scope, ...(cap.scope === 'workspace' ? { workspace: cap.workspace } : {}),
            capNanoUsd, spentNanoUsd, reservedNanoUsd,
            remainingNanoUsd: Math.max(0, capNanoUsd - spentNanoUsd - reservedNanoUsd),
            worstCaseNanoUsd: to,
          });
        }
      }
    }
    this.reservedAll += delta;
    if (r.workspace !== undefined) this.reservedByWorkspace.set(r.workspace, (this.reservedByWorkspace.get(r.workspace) ?? 0) + delta);
  }

  private reservedFor(cap: BudgetCap): number {
    return cap.scope === 'workspace' ? this.reserved(cap.workspace) : this.reservedAll;
  }
}
