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
const bump = (record: Record<string, number>, key: string, n: number) => {
  record[key] = (record[key] ?? 0) + n;
};

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
    const s: SpendRollup = {
      day, month, todayNanoUsd: 0, monthNanoUsd: 0, receipts: 0,
      byProvider: {}, bySite: {}, byModel: {}, byWorkspace: {}, byClient: {}, days: [],
    };
    const days = new Map<string, SpendRollup['days'][number]>();
    for (const c of this.cells.values()) {
      if (!c.day.startsWith(month) || (workspace !== undefined && c.workspace !== workspace)) continue;
      s.monthNanoUsd += c.nanoUsd;
      s.receipts += c.receipts;
      if (c.day === day) s.todayNanoUsd += c.nanoUsd;
      bump(s.byProvider, c.provider, c.nanoUsd);
      bump(s.bySite, c.site, c.nanoUsd);
      bump(s.byModel, c.model, c.nanoUsd);
      bump(s.byWorkspace, c.workspace, c.nanoUsd);
      bump(s.byClient, c.client, c.nanoUsd);
      let d = days.get(c.day);
      if (!d) days.set(c.day, (d = { day: c.day, byProvider: {}, bySite: {} }));
      bump(d.byProvider, c.provider, c.nanoUsd);
      bump(d.bySite, c.site, c.nanoUsd);
    }
    s.days = [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
    return s;
  }
}
