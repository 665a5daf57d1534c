// The spend as this window shows it, and when to read it again. Pure (no vscode), so the unit tests
// run it without an editor.
//
// The daily and monthly caps cover every workspace, so the totals shown against them are every
// workspace's too: the summary switchyard/spendChanged pushes after each request. A workspace cap
// belongs to one window; the summary lists every window's.

import * as proto from '../daemon/protocol';

/** Sends switchyard/spend, as the connected LanguageClient does. */
export type SpendRequester = (type: typeof proto.spend, params: proto.SpendParams) => Promise<proto.SpendSummary>;

/**
 * Reads the spend as spendChanged pushes it: every workspace's. Asked for one workspace, the daemon
 * counts only its spend, and the status bar would flip between that and the total with each push.
 */
export function readSpend(send: SpendRequester): Promise<proto.SpendSummary> {
  return send(proto.spend, {});
}

/** The budgets this window answers to: the global caps and its own workspace's, not another window's workspace cap. */
export function ownBudgets(budgets: readonly proto.BudgetStatus[], workspace: string | undefined): proto.BudgetStatus[] {
  return budgets.filter((b) => b.scope !== 'workspace' || (workspace !== undefined && b.workspace === workspace));
}

export type AnyBudget = Pick<proto.BudgetStatus, 'state'> & { scope: proto.BudgetStatus['scope'] | 'day' | 'month'; setBy?: string };

export function worstBudget<B extends AnyBudget>(budgets: B[]): B | undefined {
  const rank = { ok: 0, warn: 1, exceeded: 2 } as const;
  return [...budgets].sort((a, b) => rank[b.state] - rank[a.state])[0];
}

/**
 * The spend and the team ledger's standing as the status bar shows them: the connected daemon's only.
 * They go with the connection, so a restart or a drop never shows the old daemon's figures as live, and
 * a push that arrives while there is none (the old daemon billing its last answers as it stops) is not
 * taken for the next daemon's; the next are read once it is connected.
 */
export class LiveFigures {
  private live = false;
  private figures: { summary?: proto.SpendSummary; ledger?: proto.TeamLedgerStatus } = {};

  get summary(): proto.SpendSummary | undefined {
    return this.figures.summary;
  }

  get ledger(): proto.TeamLedgerStatus | undefined {
    return this.figures.ledger;
  }

  /** Connected: the team ledger as the new daemon's status says; its spend follows. */
  connected(ledger: proto.TeamLedgerStatus): void {
    this.live = true;
    this.figures = { ...this.figures, ledger };
  }

  disconnected(): void {
    this.live = false;
    this.figures = {};
  }

  /** Takes a spend summary; false (ignored) while not connected. */
  spend(summary: proto.SpendSummary): boolean {
    if (this.live) this.figures = { ...this.figures, summary };
    return this.live;
  }

  /** Takes the team ledger's standing; false (ignored) while not connected. */
  team(ledger: proto.TeamLedgerStatus): boolean {
    if (this.live) this.figures = { ...this.figures, ledger };
    return this.live;
  }
}

/**
 * A moment past the next local midnight. setHours(24) rather than adding a day's milliseconds: a day
 * with a daylight saving change is 23 or 25 hours long. The second's margin lets the daemon, reading
 * the same clock, be sure of the new day when asked.
 */
export function msToNextLocalDay(now: number): number {
  const midnight = new Date(now);
  midnight.setHours(24, 0, 0, 0);
  return midnight.getTime() - now + 1000;
}

/**
 * The longest single wait. A timer's delay runs on a clock that stops while the machine sleeps: armed
 * for midnight in the evening, it would end hours into the morning after a night with the lid closed.
 */
const MAX_WAIT_MS = 60_000;

/**
 * Calls `onNewDay` just after each local midnight until disposed, and within a minute of waking on a
 * later day. The daemon pushes spend only after requests and settings changes, so without it "today"
 * would show yesterday's total overnight.
 */
export class DayTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  /** When the day after the one last read begins (a second past its midnight). */
  private due: number;

  constructor(private readonly onNewDay: () => void, private readonly now: () => number = Date.now) {
    const start = this.now();
    this.due = start + msToNextLocalDay(start);
    this.arm();
  }

  private arm(): void {
    if (this.disposed) return;
    this.timer = setTimeout(() => this.wake(), Math.min(Math.max(0, this.due - this.now()), MAX_WAIT_MS));
    // Never what keeps a process alive.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private wake(): void {
    const now = this.now();
    const next = now + msToNextLocalDay(now);
    // Past the day awaited, or the clock was set back before the midnight before it: either way the
    // day shown is not today's. Re-armed first, so a failing callback does not stop the next day's.
    const newDay = now >= this.due || next < this.due;
    if (newDay) this.due = next;
    this.arm();
    if (newDay) this.onNewDay();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }
}
