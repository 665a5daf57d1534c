// The meter: pricing, the durable Ledger of receipts, spend rollups and budgets behind one object.
//
//   const meter = await Meter.open(stateDir, { budgets, clock });   // recovers; see recoveryReport
//   // placement / dispatch
//   const { cost } = meter.estimate(card, messages, maxTokens);      // worst case for this site
//   const reservation = meter.reserve({ worstCaseNanoUsd: cost.totalNanoUsd, workspace });
//                                        // throws BudgetExceededError (err.data: BudgetExceededData)
//   reservation.resize(otherSiteWorstCase);   // failover: same reservation, re-checked; may throw
//   // finished (complete, length, cancelled, cut):
//   const { tokens, cost } = billAttempt(card, { outcome, usage, messages, text, bytesReceived });
//   await meter.record(receipt, reservation); // holds the cost until durable and counted, then releases
//   // failed before anything was produced or billed:
//   reservation.release();
//
//   meter.summary(workspace?) -> SpendSummary     meter.setBudgets(caps) / meter.budgets()
//   meter.exportLedger(params) -> ExportLedgerResult
//   meter.onChange((receipt) => ...)  after each durable receipt (debounce summary() for spendChanged)
//   await meter.close()
//
// Files under <stateDir>/ledger/: YYYY-MM.jsonl (the Ledger) and YYYY-MM.rollup.json (snapshot of
// that month's rollups, so a restart replays only the receipts written after it). A start replays the
// current month and any later one that already has a file (a clock that ran ahead, a move west across
// a month's end), so those receipts count once their month comes; earlier months are not tracked.

import path from 'node:path';
import type { BudgetCap, BudgetStatus, ChatMessage, ExportLedgerParams, ExportLedgerResult, PriceCard, Receipt, RecentRequest, SpendSummary } from '../protocol';
import { Budgets, capsFromWindow, withoutStrayWorkspace, type Reservation } from './budgets';
import { localDay, localMonth, shiftMonth, type Clock } from './calendar';
import { worstCase, type WorstCase } from './estimate';
import { exportReceipts } from './export';
import { Ledger, listMonths, monthFile, type DurableEntry, type FileRecovery } from './ledger';
import { Rollups } from './rollups';
import { readSnapshot, writeSnapshot, type Snapshot } from './snapshot';
import { decodeLine } from './ledger-line';
import { readLines, receiptsOf } from './ledger-scan';

export { BudgetExceededError, Reservation } from './budgets';
export { billAttempt, countAttempt, type AttemptUsage } from './bill';
export { formatUsd, priceUsage, type BillableUsage } from './pricing';

export interface MeterOptions {
  clock?: Clock;
  /**
   * The saved caps. A `workspace` on a day or month cap, accepted before setBudgets refused it, is
   * dropped here (and logged) rather than failing the start on an old settings file.
   */
  budgets?: BudgetCap[];
  /** Write the month's rollup snapshot after this many new receipts (and on close). */
  snapshotEvery?: number;
  /** Where recovery findings and background snapshot failures are told. */
  log?: (message: string) => void;
}

export interface RecoveryReport {
  /** Ledger files whose tail was torn (and cut off) or that hold damaged lines. */
  files: FileRecovery[];
  /** 'snapshot' when the month's rollups came from a snapshot plus its tail, else why not. */
  rollups: string;
  /** Receipts replayed from the ledger to rebuild the month's rollups. */
  replayed: number;
  ms: number;
}

export type ChangeListener = (receipt: Receipt) => void;

const DEFAULT_SNAPSHOT_EVERY = 20_000;

/** How many of the latest receipts a summary lists. */
export const RECENT_SHOWN = 10;
/** How far back from a snapshot a restart reads to list the latest requests (a receipt is 1-2 KB). */
const RECENT_BYTES = 64 * 1024;

function recentOf(r: Receipt): RecentRequest {
  return {
    receiptId: r.id, placementId: r.placementId, createdAt: r.createdAt, client: r.client, model: r.model, site: r.site,
    outcome: r.outcome, costNanoUsd: r.cost.totalNanoUsd, totalMs: r.totalMs, workspace: r.workspace,
  };
}

/** Where a month's replay starts: after the receipts its trusted snapshot covers, else at the start. */
function replayFrom(snap: Snapshot | { rejected: string }): number {
  return 'cells' in snap ? snap.offset : 0;
}

export class Meter {
  private readonly listeners = new Set<ChangeListener>();
  /** The latest receipts, oldest first. */
  private readonly latest: RecentRequest[] = [];
  private readonly budgetBook: Budgets;
  private sinceSnapshot = 0;
  private snapshotting: Promise<void> | null = null;
  private snapshotAgain = false;
  private ledger!: Ledger;
  recoveryReport!: RecoveryReport;

  private constructor(
    readonly dir: string,
    private readonly clock: Clock,
    private readonly rollups: Rollups,
    /** Months before the current one whose files predate this process: not replayed, their spend is not tracked. */
    private readonly untracked: Set<string>,
    private readonly options: MeterOptions,
  ) {
    this.budgetBook = new Budgets((cap) => {
      const now = this.clock();
      if (cap.scope === 'day') return rollups.spentOnDay(localDay(now));
      return rollups.spentInMonth(localMonth(now), cap.scope === 'workspace' ? cap.workspace : undefined);
    });
  }

  static async open(stateDir: string, options: MeterOptions = {}): Promise<Meter> {
    const started = performance.now();
    const dir = path.join(stateDir, 'ledger');
    const clock = options.clock ?? Date.now;
    const month = localMonth(clock());
    const rollups = new Rollups();
    const months = await listMonths(dir);
    // Months before this one are over and not tracked. A later month's file (a clock that ran ahead, a
    // move west across a month's end) is replayed now, from its snapshot if it has one: its receipts
    // must count once its month comes, and the budget check cannot wait on a file then. So is last
    // month's on the first two days of a month: after a move east (up to 26 hours between zones) it
    // holds receipts of today, which today's cap must see.
    const previous = shiftMonth(month, -1);
    const early = Number(localDay(clock()).slice(8)) <= 2 && months.includes(previous);
    const replayedMonths = [month, ...(early ? [previous] : []), ...months.filter((m) => m > month)];
    const snaps = await Promise.all(replayedMonths.map((m) => readSnapshot(dir, m, monthFile(dir, m))));
    for (const s of snaps) if ('cells' in s) for (const cell of s.cells) rollups.addCell(cell);
    const snap = snaps[0];
    const meter = new Meter(dir, clock, rollups, new Set(months.filter((m) => m < month)), options);
    meter.budgetBook.setCaps(withoutStrayWorkspace(options.budgets ?? [], options.log));
    let replayed = 0;
    meter.ledger = await Ledger.open(dir, {
      replay: replayedMonths.map((m, i) => ({ month: m, from: replayFrom(snaps[i]), onReceipt: (r) => (replayed++, rollups.add(r, m), meter.remember(r)) })),
      onDurable: (entries) => meter.counted(entries),
    });
    meter.recoveryReport = {
      files: meter.ledger.recovery,
      rollups: 'cells' in snap ? 'snapshot' : snap.rejected,
      replayed,
      ms: Math.round(performance.now() - started),
    };
    for (const f of meter.ledger.recovery) {
      options.log?.(`ledger recovery: ${f.file}: cut ${f.tornBytes} torn bytes, ${f.corruptAt.length} damaged lines skipped`);
    }
    // Replay started at the snapshot; the latest requests before it are read from just ahead of it.
    if ('cells' in snap && snap.offset > 0 && meter.latest.length < RECENT_SHOWN) await meter.rememberBefore(monthFile(dir, month), snap.offset);
    // The replayed receipts are not in a snapshot yet: the next start need not replay them again (a
    // snapshot set aside, one of another time zone, is replaced at close at the latest).
    meter.sinceSnapshot = replayed;
    if (replayed >= (options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY)) meter.snapshotSoon();
    return meter;
  }

  /** Worst-case cost of a request on a site: its prompt counted, every allowed output token produced. */
  estimate(card: PriceCard, messages: readonly ChatMessage[], maxTokens: number): WorstCase {
    return worstCase(card, messages, maxTokens);
  }

  /** Synchronous check-and-hold against every applicable cap; throws BudgetExceededError. */
  reserve(request: { worstCaseNanoUsd: number; workspace?: string | null }): Reservation {
    return this.budgetBook.reserve(request.worstCaseNanoUsd, request.workspace ?? undefined);
  }

  /**
   * Appends the receipt durably and counts it as spend; until then the reservation holds the
   * receipt's cost, then it is released, so the cost is never missing from both spend and
   * reservations. If the append fails the cost stays held (that money may well have been spent) and
   * the error is thrown.
   */
  async record(receipt: Receipt, reservation?: Reservation): Promise<void> {
    reservation?.settle(receipt.cost.totalNanoUsd);
    await this.ledger.append(receipt);
    reservation?.release();
  }

  summary(workspace?: string): SpendSummary {
    const now = this.clock();
    // Every client's, whatever the workspace: a tool through the endpoint has none, and is listed too.
    const recent = this.latest.slice(-RECENT_SHOWN).reverse();
    return {
      ...this.rollups.summarize(localMonth(now), localDay(now), workspace),
      reservedNanoUsd: this.budgetBook.reserved(workspace),
      budgets: this.budgetBook.statuses(workspace),
      recent,
    };
  }

  /**
   * Replaces the caps (see capsFromWindow for `window`, the workspace of the editor window sending them);
   * throws, changing nothing, when one is invalid.
   */
  setBudgets(caps: BudgetCap[], window?: string | null): BudgetStatus[] {
    this.budgetBook.setCaps(capsFromWindow(this.budgetBook.getCaps(), caps, window));
    return this.budgets();
  }

  /** The caps in force, as saved with the settings. */
  caps(): BudgetCap[] {
    return this.budgetBook.getCaps();
  }

  /** Least headroom under the caps summary(workspace).budgets shows; undefined with no caps. Cheap: per request. */
  remainingNanoUsd(workspace?: string): number | undefined {
    return this.budgetBook.remaining(workspace);
  }

  budgets(): BudgetStatus[] {
    return this.budgetBook.statuses();
  }

  /**
   * Resolves once every receipt recorded before the call is durable and counted (or failed). An answer
   * can be delivered before its receipt is durable; reads that follow it wait here to see it.
   */
  settled(): Promise<void> {
    return this.ledger.settled();
  }

  /** Every receipt recorded before the call is included (see settled). */
  async exportLedger(params: ExportLedgerParams): Promise<ExportLedgerResult> {
    await this.ledger.settled();
    return exportReceipts(this.dir, params, (month) => this.ledger.durableSize(month));
  }

  /** The durable receipts created at or after `since` (ms), a chunk at a time, oldest month first. */
  async *receiptsSince(since: number): AsyncGenerator<Receipt[]> {
    await this.ledger.settled();
    // A file is named by the local month when its receipts were written; the time zone may have
    // changed since, so the month before may hold receipts after `since`.
    const first = shiftMonth(localMonth(since), -1);
    for (const month of (await listMonths(this.dir)).filter((m) => m >= first)) {
      for await (const receipts of receiptsOf(monthFile(this.dir, month), this.ledger.durableSize(month))) {
        const recent = receipts.filter((r) => Date.parse(r.createdAt) >= since);
        if (recent.length) yield recent;
      }
    }
  }

  /** Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.ledger.close();
    while (this.snapshotting) await this.snapshotting;
    if (this.sinceSnapshot > 0) await this.snapshot();
  }

  /** Ledger callback, synchronous with durability: rollups always equal the durable ledger. */
  private counted(entries: DurableEntry[]): void {
    for (const { receipt, month } of entries) {
      if (!this.untracked.has(month)) this.rollups.add(receipt, month);
      this.remember(receipt);
    }
    this.sinceSnapshot += entries.length;
    if (this.sinceSnapshot >= (this.options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY)) this.snapshotSoon();
    for (const { receipt } of entries) {
      for (const listener of this.listeners) {
        try {
          listener(receipt);
        } catch (error) {
          this.options.log?.(`meter change listener failed: ${String(error)}`);
        }
      }
    }
  }

  private remember(r: Receipt): void {
    this.latest.push(recentOf(r));
    if (this.latest.length > 2 * RECENT_SHOWN) this.latest.splice(0, this.latest.length - RECENT_SHOWN);
  }

  /** The receipts in the last RECENT_BYTES before `end` of a month file, ahead of those already listed. */
  private async rememberBefore(file: string, end: number): Promise<void> {
    const from = Math.max(0, end - RECENT_BYTES);
    const before: RecentRequest[] = [];
    for await (const lines of readLines(file, from, end)) {
      for (const line of lines) {
        // Reading from the middle of the file, the first line is likely a fragment: its checksum refuses it.
        const receipt = line.complete ? decodeLine(line.text) : null;
        if (receipt) before.push(recentOf(receipt));
      }
    }
    this.latest.unshift(...before.slice(-RECENT_SHOWN));
  }

  private snapshotSoon(): void {
    if (this.snapshotting) {
      this.snapshotAgain = true;
      return;
    }
    this.snapshotting = this.snapshot()
      .catch((error) => this.options.log?.(`rollup snapshot failed: ${String(error)}`))
      .finally(() => {
        this.snapshotting = null;
        if (this.snapshotAgain) {
          this.snapshotAgain = false;
          this.snapshotSoon();
        }
      });
  }

  /** Cells and offset are taken in the same synchronous step, so they describe the same prefix. */
  private async snapshot(): Promise<void> {
    const month = localMonth(this.clock());
    const offset = this.ledger.durableSize(month);
    this.sinceSnapshot = 0;
    if (offset === undefined || this.untracked.has(month)) return;
    await writeSnapshot(this.dir, monthFile(this.dir, month), { month, offset, cells: this.rollups.cellsOf(month) });
  }
}
