// A checkpoint of one month's rollups, keyed by the ledger file offset it covers, so a restart
// replays only the receipts after it instead of the whole month. Written to a temp file, synced and
// renamed over the old one, so a crash leaves either the old or the new snapshot, never half of one.
// It is only ever trusted after checks: its own checksum, the offset inside the file, and the bytes
// just before the offset (the end of the last covered line, checksum included) matching what the
// file holds there now. Anything else falls back to replaying the whole month.

import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { localZone } from './calendar';
import { checksum } from './ledger-line';
import type { Cell } from './rollups';

// 2: cells carry the client. 3: the snapshot names the time zone of its cells' days. An older snapshot
// is not trusted, so the month is replayed from the ledger.
const VERSION = 3;
const ANCHOR_BYTES = 32;

export interface Snapshot {
  month: string;
  /** Byte offset in the month's ledger file that `cells` cover (a line start). */
  offset: number;
  cells: Cell[];
}

interface SnapshotFile extends Snapshot {
  version: number;
  /** Hex of the ANCHOR_BYTES before `offset` in the ledger file. */
  anchor: string;
  /** The time zone the cells' days were taken in (localZone). */
  zone: string;
}

export function snapshotFile(dir: string, month: string): string {
  return path.join(dir, `${month}.rollup.json`);
}

async function readAnchor(ledgerFile: string, offset: number): Promise<string> {
  const start = Math.max(0, offset - ANCHOR_BYTES);
  const handle = await open(ledgerFile, 'r');
  try {
    const buffer = Buffer.alloc(offset - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return buffer.subarray(0, bytesRead).toString('hex');
  } finally {
    await handle.close();
  }
}

export async function writeSnapshot(dir: string, ledgerFile: string, snap: Snapshot): Promise<void> {
  const body = JSON.stringify({ version: VERSION, ...snap, anchor: await readAnchor(ledgerFile, snap.offset), zone: localZone() } satisfies SnapshotFile);
  const target = snapshotFile(dir, snap.month);
  const temp = `${target}.${process.pid}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(`${body}\n${checksum(body)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target).catch(async (error) => {
    await unlink(temp).catch(() => {});
    throw error;
  });
}

/** The month's snapshot if it can be trusted against the ledger file, else why not. */
export async function readSnapshot(dir: string, month: string, ledgerFile: string): Promise<Snapshot | { rejected: string }> {
  let text: string;
  try {
    text = await readFile(snapshotFile(dir, month), 'utf8');
  } catch {
    return { rejected: 'no snapshot' };
  }
  const body = text.slice(0, text.indexOf('\n'));
  if (!body || text !== `${body}\n${checksum(body)}\n`) return { rejected: 'snapshot checksum mismatch' };
  const snap = JSON.parse(body) as SnapshotFile;
  if (snap.version !== VERSION || snap.month !== month || !Number.isSafeInteger(snap.offset) || !Array.isArray(snap.cells)) {
    return { rejected: 'snapshot of another version or month' };
  }
  // A cell holds a day, not a time: after the daemon starts in another zone (a laptop that travelled),
  // only a replay puts each receipt on its local day here.
  if (snap.zone !== localZone()) return { rejected: 'snapshot taken in another time zone' };
  const anchor = await readAnchor(ledgerFile, snap.offset).catch(() => '');
  if (anchor !== snap.anchor || anchor.length !== Math.min(snap.offset, ANCHOR_BYTES) * 2) {
    return { rejected: 'snapshot does not match the ledger file' };
  }
  // Cells written before they named their file came from this month's file all the same.
  return { month, offset: snap.offset, cells: snap.cells.map((c) => ({ ...c, file: month })) };
}
