// The Ledger: append-only JSON lines, one month per file (<dir>/YYYY-MM.jsonl, the receipt's
// createdAt in local time), with group commit.
//
// Durability: append() resolves only after the line is written and fdatasync'd. Appends that arrive
// while a sync is in flight wait in a queue and go out together in the next write+sync, so one
// fsync acknowledges a whole batch: throughput grows with concurrency instead of being capped at
// one receipt per disk flush.
//
// Recovery: before the first append each month file's tail is checked; bytes after the last valid
// line (a write the crash interrupted, never acknowledged) are reported and truncated, so the next
// append starts on a line boundary and the file stays parseable. Never fatal.

import { mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Receipt } from '../protocol';
import { localMonth } from './calendar';
import { encodeLine } from './ledger-line';
import { readLines, scanFile } from './ledger-scan';

const MONTH_FILE = /^(\d{4}-\d{2})\.jsonl$/;
/** How far back from the end a file's tail is checked when its receipts are not replayed. */
const TAIL_WINDOW = 1024 * 1024;

export interface DurableEntry {
  receipt: Receipt;
  month: string;
  /** Byte offset just after the receipt's line in its month file. */
  end: number;
}

export interface FileRecovery {
  file: string;
  /** Bytes of torn/corrupt tail that were cut off (0: the file ended cleanly). */
  tornBytes: number;
  /** Start offsets of damaged lines inside the file, kept and skipped. */
  corruptAt: number[];
}

export interface ReplayRequest {
  month: string;
  /** A line start, e.g. a snapshot's offset; 0 for the whole file. */
  from: number;
  onReceipt(receipt: Receipt, end: number): void;
}

export interface LedgerOptions {
  /** Months whose receipts are replayed during recovery (the meter rebuilds its rollups from them). */
  replay?: ReplayRequest[];
  /** Called synchronously once a batch is durable, before any of its appends resolve. */
  onDurable?(entries: DurableEntry[]): void;
}

interface Pending {
  entry: DurableEntry;
  line: string;
  resolve(): void;
  reject(error: unknown): void;
}

interface MonthFile {
  handle: FileHandle;
  /** Durable size: everything before it is synced, valid lines. */
  size: number;
}

export function monthFile(dir: string, month: string): string {
  return path.join(dir, `${month}.jsonl`);
}

export async function listMonths(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.flatMap((n) => MONTH_FILE.exec(n)?.[1] ?? []).sort();
}

export class Ledger {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  /** settled() callers, resolved after the batch that takes the queue as it is now. */
  private waiting: (() => void)[] = [];
  private readonly files = new Map<string, MonthFile>();
  /** Durable size of every file recovered or written, kept after close for a last snapshot. */
  private readonly sizes = new Map<string, number>();
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly recovery: FileRecovery[],
    private readonly onDurable: (entries: DurableEntry[]) => void,
  ) {}

  static async open(dir: string, options: LedgerOptions = {}): Promise<Ledger> {
    await mkdir(dir, { recursive: true });
    const months = await listMonths(dir);
    const replays = new Map((options.replay ?? []).map((r) => [r.month, r]));
    const recovery: FileRecovery[] = [];
    const ledger = new Ledger(dir, recovery, options.onDurable ?? (() => {}));
    for (const month of months) {
      const file = monthFile(dir, month);
      const size = await stat(file).then((s) => s.size, () => 0);
      if (size === 0) continue;
      const replay = replays.get(month);
      const scan = replay ? await scanFile(file, Math.min(replay.from, size), replay.onReceipt) : await scanFile(file, await tailStart(file, size));
      ledger.sizes.set(month, scan.goodEnd);
      if (scan.tornBytes || scan.corruptAt.length) recovery.push({ file, tornBytes: scan.tornBytes, corruptAt: scan.corruptAt });
      if (scan.tornBytes) {
        const handle = await open(file, 'r+');
        await handle.truncate(scan.goodEnd);
        await handle.sync();
        await handle.close();
      }
    }
    return ledger;
  }

  /** Resolves once the receipt is durable; rejects if it could not be written (nothing is kept). */
  append(receipt: Receipt): Promise<void> {
    if (this.closed) return Promise.reject(new Error('ledger is closed'));
    if (!receipt || typeof receipt.id !== 'string' || Number.isNaN(Date.parse(receipt.createdAt))) {
      return Promise.reject(new Error('receipt needs an id and an ISO createdAt'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry: { receipt, month: localMonth(receipt.createdAt), end: 0 }, line: encodeLine(receipt), resolve, reject });
      // Start on a microtask so appends made in the same tick share the first write as well.
      if (!this.flushing) this.flushing = Promise.resolve().then(() => this.flush());
    });
  }

  /** Resolves once every append made before the call is durable or has failed. */
  settled(): Promise<void> {
    if (!this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Durable size of a month's file, when this process recovered or wrote it. */
  durableSize(month: string): number | undefined {
    return this.sizes.get(month);
  }

  /** Waits for queued appends, then closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    for (const f of this.files.values()) await f.handle.close();
    this.files.clear();
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      const waiting = this.waiting;
      this.queue = [];
      this.waiting = [];
      for (const group of groupByMonth(batch)) {
        try {
          await this.write(group);
        } catch (error) {
          for (const p of group) p.reject(error);
          continue;
        }
        this.onDurable(group.map((p) => p.entry));
        for (const p of group) p.resolve();
      }
      for (const resolve of waiting) resolve();
    }
    this.flushing = null;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  /** One write and one fdatasync for every line of the group (all in the same month). */
  private async write(group: Pending[]): Promise<void> {
    const file = await this.file(group[0].entry.month);
    const data = Buffer.from(group.map((p) => p.line).join(''), 'utf8');
    try {
      for (let written = 0; written < data.length; ) {
        const { bytesWritten } = await file.handle.write(data, written, data.length - written, file.size + written);
        written += bytesWritten;
      }
      await file.handle.datasync();
    } catch (error) {
      // Leave no half batch behind: the next write must start on a line boundary.
      await file.handle.truncate(file.size).catch(() => {});
      throw error;
    }
    let offset = file.size;
    for (const p of group) p.entry.end = offset += Buffer.byteLength(p.line, 'utf8');
    file.size += data.length;
    this.sizes.set(group[0].entry.month, file.size);
  }

  private async file(month: string): Promise<MonthFile> {
    const known = this.files.get(month);
    if (known) return known;
    const name = monthFile(this.dir, month);
    const existed = await stat(name).then(() => true, () => false);
    // 'r+' with explicit positions: we track the size ourselves and write at it.
    const handle = await open(name, existed ? 'r+' : 'w+');
    if (!existed) await syncDir(this.dir);
    const file = { handle, size: (await handle.stat()).size };
    this.files.set(month, file);
    return file;
  }
}

function groupByMonth(batch: Pending[]): Pending[][] {
  const groups = new Map<string, Pending[]>();
  for (const p of batch) {
    const group = groups.get(p.entry.month);
    if (group) group.push(p);
    else groups.set(p.entry.month, [p]);
  }
  return [...groups.values()];
}

/** A line start at most TAIL_WINDOW before the end (the whole file when no newline is found there). */
async function tailStart(file: string, size: number): Promise<number> {
  if (size <= TAIL_WINDOW) return 0;
  for await (const lines of readLines(file, size - TAIL_WINDOW)) {
    if (lines[0].complete) return lines[0].end;
    break;
  }
  return 0;
}

/** A new file's directory entry must be durable too, or the file can vanish after a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
