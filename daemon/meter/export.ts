// Export of receipts in an inclusive local-date range, as CSV (one row per receipt, a header, RFC
// 4180 quoting) or a JSON array. Streams month file by month file, a chunk at a time, with
// backpressure, into a temp file of its own renamed over the target at the end: a reader never sees
// half an export, nor two exports to the same path mixed. Only the durable part of each file is read,
// so concurrent appends are not torn.

import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { ExportLedgerParams, ExportLedgerResult, Receipt } from '../protocol';
import { localDay, shiftMonth } from './calendar';
import { listMonths, monthFile } from './ledger';
import { receiptsOf } from './ledger-scan';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

const COLUMNS: [string, (r: Receipt) => unknown][] = [
  ['id', (r) => r.id],
  ['createdAt', (r) => r.createdAt],
  ['day', (r) => localDay(r.createdAt)],
  ['requestId', (r) => r.requestId],
  ['workspace', (r) => r.workspace ?? ''],
  ['client', (r) => r.client],
  ['policy', (r) => r.policy],
  ['model', (r) => r.model],
  ['providerModel', (r) => r.providerModel],
  ['site', (r) => r.site.id],
  ['provider', (r) => r.site.provider],
  ['region', (r) => r.site.region],
  ['hardware', (r) => r.site.hardware],
  ['outcome', (r) => r.outcome],
  ['error', (r) => r.error ?? ''],
  ['attempts', (r) => r.attempts.length],
  ['inputTokens', (r) => r.tokens.input],
  ['cachedInputTokens', (r) => r.tokens.cachedInput],
  ['cacheWriteTokens', (r) => r.tokens.cacheWrite],
  // The share of cacheWriteTokens written to a 1-hour cache; none on receipts made before it was recorded.
  ['cacheWrite1hTokens', (r) => r.tokens.cacheWrite1h ?? 0],
  ['outputTokens', (r) => r.tokens.output],
  ['reasoningTokens', (r) => r.tokens.reasoning],
  ['tokensEstimated', (r) => r.tokens.estimated],
  ['ttftMs', (r) => r.ttftMs ?? ''],
  ['totalMs', (r) => r.totalMs],
  ['bytesReceived', (r) => r.bytesReceived],
  ['inputNanoUsd', (r) => r.cost.inputNanoUsd],
  ['cachedInputNanoUsd', (r) => r.cost.cachedInputNanoUsd],
  ['cacheWriteNanoUsd', (r) => r.cost.cacheWriteNanoUsd],
  ['outputNanoUsd', (r) => r.cost.outputNanoUsd],
  ['requestFeeNanoUsd', (r) => r.cost.requestFeeNanoUsd],
  ['dataTransferNanoUsd', (r) => r.cost.dataTransferNanoUsd],
  ['totalNanoUsd', (r) => r.cost.totalNanoUsd],
  ['totalUsd', (r) => exactUsd(r.cost.totalNanoUsd)],
];

/** Nano-USD as an exact decimal USD string, for spreadsheets: 1234567 -> "0.001234567". */
export function exactUsd(nano: number): string {
  const sign = nano < 0 ? '-' : '';
  const digits = String(Math.abs(nano)).padStart(10, '0');
  return `${sign}${digits.slice(0, -9)}.${digits.slice(-9)}`;
}

/**
 * One CSV field (RFC 4180). Text that begins as a formula would (=, +, -, @, tab, CR) gets a leading
 * apostrophe, so a spreadsheet shows it rather than runs it: an error message is an upstream's words and
 * a workspace or client name a tool's, and the ledger is opened in spreadsheets. Numbers stay numbers.
 */
export function csvField(value: unknown): string {
  const raw = String(value);
  const s = typeof value === 'string' && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function validateExport(p: ExportLedgerParams): void {
  if (!p || typeof p.path !== 'string' || !p.path) throw new Error('path is required');
  if (p.format !== 'csv' && p.format !== 'json') throw new Error('format must be "csv" or "json"');
  for (const key of ['from', 'to'] as const) {
    if (p[key] !== undefined && !(DATE.test(p[key]!) && !Number.isNaN(Date.parse(p[key]!)))) throw new Error(`${key} must be a date YYYY-MM-DD`);
  }
  if (p.from && p.to && p.from > p.to) throw new Error('from is after to');
}

/**
 * A stream that failed never drains, and waiting for it would keep the export reading (a ledger file
 * open) forever: `stop` ends the wait when the export gives up.
 */
async function put(out: WriteStream, text: string, stop: AbortSignal): Promise<void> {
  stop.throwIfAborted();
  if (!out.write(text)) await once(out, 'drain', { signal: stop });
}

/**
 * The export's own file, not the temp file beside it that the user never chose: "cannot write
 * /home/me/spend.csv: EACCES: permission denied".
 */
function cannotWrite(target: string, error: unknown): Error {
  const e = error as NodeJS.ErrnoException;
  const reason = e?.code ? e.message.replace(/, \w+ '.*$/s, '') : String(e?.message ?? error);
  return Object.assign(new Error(`cannot write ${target}: ${reason}`, { cause: error }), e?.code ? { code: e.code } : {});
}

/**
 * `durableSize(month)` bounds what is read of a file this process is appending to. Month files are
 * named by the local month when their receipts were written, and the time zone may have changed since,
 * so the files of the range's months and of the month on each side are opened; receipts are then
 * kept by their local day now.
 */
export async function exportReceipts(
  dir: string,
  params: ExportLedgerParams,
  durableSize: (month: string) => number | undefined,
): Promise<ExportLedgerResult> {
  validateExport(params);
  const { from, to, format } = params;
  const first = from && shiftMonth(from.slice(0, 7), -1);
  const last = to && shiftMonth(to.slice(0, 7), 1);
  const months = (await listMonths(dir)).filter((m) => (!first || m >= first) && (!last || m <= last));
  // One temp file per export, never shared: two exports to one path at once each rename a whole file.
  const temp = `${params.path}.${randomUUID()}.tmp`;
  const out = createWriteStream(temp, { flags: 'wx' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {});
  const stop = new AbortController();
  let count = 0;
  const run = async () => {
    await put(out, format === 'csv' ? COLUMNS.map(([name]) => name).join(',') + '\r\n' : '[', stop.signal);
    for (const month of months) {
      const file = monthFile(dir, month);
      const limit = durableSize(month) ?? (await stat(file)).size;
      for await (const receipts of receiptsOf(file, limit)) {
        let chunk = '';
        for (const r of receipts) {
          const day = localDay(r.createdAt);
          if ((from && day < from) || (to && day > to)) continue;
          chunk += format === 'csv'
            ? COLUMNS.map(([, get]) => csvField(get(r))).join(',') + '\r\n'
            : (count ? ',\n' : '\n') + JSON.stringify(r);
          count++;
        }
        if (chunk) await put(out, chunk, stop.signal);
      }
    }
    if (format === 'json') await put(out, count ? '\n]\n' : ']\n', stop.signal);
    out.end();
    // Unlike once(out, 'finish'), settles for a stream that failed or was destroyed before.
    await finished(out);
  };
  const running = run();
  try {
    await Promise.race([running, failed]);
    await rename(temp, params.path).catch((error) => {
      throw cannotWrite(params.path, error);
    });
  } catch (error) {
    stop.abort();
    out.destroy();
    // The reading stops at its next write: its ledger file is closed before the export answers.
    await running.catch(() => {});
    // Closed first: a temp file still being opened would otherwise appear after the unlink.
    if (!out.closed) await once(out, 'close').catch(() => {});
    await unlink(temp).catch(() => {});
    throw error === out.errored ? cannotWrite(params.path, error) : error;
  }
  return { path: params.path, receipts: count };
}
