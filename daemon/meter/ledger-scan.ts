// Reading ledger files: lines with their byte offsets, in big chunks (recovery of a month's tail,
// export, tests), and the one rule for what a damaged file means.

import { open } from 'node:fs/promises';
import type { Receipt } from '../protocol';
import { decodeLine } from './ledger-line';

const CHUNK = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

export interface Line {
  text: string;
  /** Byte offsets: start of the line, and just after its newline (or end of file when torn). */
  start: number;
  end: number;
  /** False for trailing bytes without a newline. */
  complete: boolean;
}

/** Lines of `file` from byte `from` (a line start) up to byte `to` (default: end), a chunk at a time. */
export async function* readLines(file: string, from = 0, to = Infinity): AsyncGenerator<Line[]> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let carry = Buffer.alloc(0);
    let position = from;
    let lineStart = from;
    for (;;) {
      const want = Math.min(CHUNK, to - position);
      const { bytesRead } = want > 0 ? await handle.read(buffer, 0, want, position) : { bytesRead: 0 };
      if (bytesRead === 0) break;
      position += bytesRead;
      const data = carry.length ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
      const lines: Line[] = [];
      let at = 0;
      for (let nl = data.indexOf(NEWLINE, at); nl !== -1; nl = data.indexOf(NEWLINE, at)) {
        const end = lineStart + nl - at + 1;
        lines.push({ text: data.toString('utf8', at, nl), start: lineStart, end, complete: true });
        lineStart = end;
        at = nl + 1;
      }
      // Copy: `data` may alias `buffer`, which the next read overwrites.
      carry = Buffer.from(data.subarray(at));
      if (lines.length) yield lines;
    }
    if (carry.length) yield [{ text: carry.toString('utf8'), start: lineStart, end: lineStart + carry.length, complete: false }];
  } finally {
    await handle.close();
  }
}

/** The intact receipts of `file` up to byte `to`, a chunk at a time (damaged or torn lines are skipped). */
export async function* receiptsOf(file: string, to = Infinity): AsyncGenerator<Receipt[]> {
  for await (const lines of readLines(file, 0, to)) {
    const receipts: Receipt[] = [];
    for (const line of lines) {
      const receipt = line.complete ? decodeLine(line.text) : null;
      if (receipt) receipts.push(receipt);
    }
    if (receipts.length) yield receipts;
  }
}

export interface FileScan {
  /** Offset just after the last valid receipt line: where the next append belongs. */
  goodEnd: number;
  /** Bytes after goodEnd that are not a valid line (a torn or corrupt tail). */
  tornBytes: number;
  /** Start offsets of invalid lines followed by valid ones: kept in place, reported, skipped. */
  corruptAt: number[];
  receipts: number;
}

/**
 * Decodes every line from `from` and hands each valid receipt to `onReceipt` with the offset just
 * after it. Only the trailing run of invalid bytes is a torn tail (a write the crash interrupted:
 * never acknowledged, since acknowledgement waits for fsync); an invalid line with valid lines after
 * it was damaged later, and dropping the lines after it would lose acknowledged receipts.
 */
export async function scanFile(file: string, from: number, onReceipt?: (receipt: Receipt, end: number) => void): Promise<FileScan> {
  let goodEnd = from;
  let lastEnd = from;
  let receipts = 0;
  let pendingBad: number[] = [];
  const corruptAt: number[] = [];
  for await (const lines of readLines(file, from)) {
    for (const line of lines) {
      lastEnd = line.end;
      const receipt = line.complete ? decodeLine(line.text) : null;
      if (!receipt) {
        pendingBad.push(line.start);
        continue;
      }
      corruptAt.push(...pendingBad);
      pendingBad = [];
      goodEnd = line.end;
      receipts++;
      onReceipt?.(receipt, line.end);
    }
  }
  return { goodEnd, tornBytes: lastEnd - goodEnd, corruptAt, receipts };
}
