// Spend rollups, kept incrementally as receipts become durable. One cell per (day, provider, site,
// model, workspace, client, month file) holds a sum and a count; every view of spend (today, month, by provider/
// site/model/workspace/client, per day) is a fold over a month's cells, and there are few of them
// (days x sites x models x workspaces x clients in use), so a cell list is also a compact snapshot. The totals budgets ask
// for on every reservation are kept apart so that check stays O(1).

import type { Receipt, SpendSummary } from '../protocol';
import { localDay, localMonth } from './calendar';

/** byWorkspace key for receipts made outside any workspace. */
export const NO_WORKSPACE = '(none)';

export interface Cell {
  day: string;
  provider: string;
  site: string;
  model: string;
  workspace: string;
  /** The door the request came through: "editor", "editor:vscode.lm", "openai-api:aider". */
  client: string;
  nanoUsd: number;
  receipts: number;
  /**
   * The month file (YYYY-MM) the receipts are in. A snapshot covers one file's receipts; after a time
   * zone change a receipt's day can fall in another month than its file, and must not be counted twice.
   */
  file: string;
}

export type SpendRollup = Omit<SpendSummary, 'reservedNanoUsd' | 'budgets' | 'recent'>;

const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
/**
 * The sums as the record SpendSummary sends. Summed in a Map first: names come from any client (a
 * workspace from a header at the OpenAI endpoint), and in a plain object "constructor" would start
 * from Object's function and "__proto__" would not be a key at all.
 */
const record = (map: Map<string, number>): Record<string, number> => Object.fromEntries(map);

export class Rollups {
  private readonly cells = new Map<string, Cell>();
  private readonly byDay = new Map<string, number>();
  private readonly byMonth = new Map<string, number>();
  /** month + '\n' + workspace */
  private readonly byMonthWorkspace = new Map<string, number>();

  /** `file`: the month file holding the receipt; by default the one the ledger appends it to now. */
  add(receipt: Receipt, file = localMonth(receipt.createdAt)): void {
    this.addCell({
      day: localDay(receipt.createdAt),
      provider: receipt.site.provider,
      site: receipt.site.id,
      model: receipt.model,
      workspace: receipt.workspace ?? NO_WORKSPACE,
      client: receipt.client,
      nanoUsd: receipt.cost.totalNanoUsd,
      receipts: 1,
      file,
    });
  }

  addCell(c: Cell): void {
    const key = `${c.day}\n${c.provider}\n${c.site}\n${c.model}\n${c.workspace}\n${c.client}\n${c.file}`;
    const cell = this.cells.get(key);
    if (cell) {
      cell.nanoUsd += c.nanoUsd;
      cell.receipts += c.receipts;
    } else {
      this.cells.set(key, { ...c });
    }
    const month = c.day.slice(0, 7);
    add(this.byDay, c.day, c.nanoUsd);
    add(this.byMonth, month, c.nanoUsd);
    add(this.byMonthWorkspace, `${month}\n${c.workspace}`, c.nanoUsd);
  }

  spentOnDay(day: string): number {
    return this.byDay.get(day) ?? 0;
  }

  spentInMonth(month: string, workspace?: string): number {
    return (workspace === undefined ? this.byMonth.get(month) : this.byMonthWorkspace.get(`${month}\n${workspace}`)) ?? 0;
  }

  /** Copies of the cells of one month file's receipts, for its snapshot. */
  cellsOf(file: string): Cell[] {
    return [...this.cells.values()].filter((c) => c.file === file).map((c) => ({ ...c }));
  }

  summarize(month: string, day: string, workspace?: string): SpendRollup {
    let todayNanoUsd = 0;
    let monthNanoUsd = 0;
    let receipts = 0;
    const byProvider = new Map<string, number>();
    const bySite = new Map<string, number>();
    const byModel = new Map<string, number>();
    const byWorkspace = new Map<string, number>();
    const byClient = new Map<string, number>();
    const days = new Map<string, { byProvider: Map<string, number>; bySite: Map<string, number> }>();
    for (const c of this.cells.values()) {
      if (!c.day.startsWith(month) || (workspace !== undefined && c.workspace !== workspace)) continue;
      monthNanoUsd += c.nanoUsd;
      receipts += c.receipts;
      if (c.day === day) todayNanoUsd += c.nanoUsd;
      add(byProvider, c.provider, c.nanoUsd);
      add(bySite, c.site, c.nanoUsd);
      add(byModel, c.model, c.nanoUsd);
      add(byWorkspace, c.workspace, c.nanoUsd);
      add(byClient, c.client, c.nanoUsd);
      let d = days.get(c.day);
      if (!d) days.set(c.day, (d = { byProvider: new Map(), bySite: new Map() }));
      add(d.byProvider, c.provider, c.nanoUsd);
      add(d.bySite, c.site, c.nanoUsd);
    }
    return {
      day, month, todayNanoUsd, monthNanoUsd, receipts,
      byProvider: record(byProvider), bySite: record(bySite), byModel: record(byModel), byWorkspace: record(byWorkspace), byClient: record(byClient),
      days: [...days].sort(([a], [b]) => a.localeCompare(b)).map(([d, sums]) => ({ day: d, byProvider: record(sums.byProvider), bySite: record(sums.bySite) })),
    };
  }
}
