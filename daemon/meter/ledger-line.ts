// One ledger line: {"receipt":<receipt JSON>,"sum":"<8 hex>"}\n
// The sum is the first 8 hex digits of the SHA-256 of the receipt JSON exactly as written, so a
// torn or bit-flipped line is detected without trusting JSON.parse to notice. The sum sits at the
// end of the line so the last bytes before any offset identify the line that ends there (the
// rollup snapshot uses that as its anchor). Every line stays valid JSON for other tools.

import { createHash } from 'node:crypto';
import type { Receipt } from '../protocol';

const PREFIX = '{"receipt":';
const SUFFIX_START = ',"sum":"';
const SUM_HEX = 8;
/** ,"sum":"xxxxxxxx"}  */
const SUFFIX_LENGTH = SUFFIX_START.length + SUM_HEX + 2;

export function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, SUM_HEX);
}

/** The line with its trailing newline. */
export function encodeLine(receipt: Receipt): string {
  const json = JSON.stringify(receipt);
  return `${PREFIX}${json}${SUFFIX_START}${checksum(json)}"}\n`;
}

/** The receipt, or null when the line (without its newline) is torn or corrupt. */
export function decodeLine(line: string): Receipt | null {
  if (line.length < PREFIX.length + SUFFIX_LENGTH || !line.startsWith(PREFIX) || !line.endsWith('"}')) return null;
  const suffixAt = line.length - SUFFIX_LENGTH;
  if (!line.startsWith(SUFFIX_START, suffixAt)) return null;
  const json = line.slice(PREFIX.length, suffixAt);
  if (checksum(json) !== line.slice(suffixAt + SUFFIX_START.length, line.length - 2)) return null;
  try {
    const receipt = JSON.parse(json) as Receipt;
    return receipt && typeof receipt.id === 'string' ? receipt : null;
  } catch {
    return null;
  }
}
