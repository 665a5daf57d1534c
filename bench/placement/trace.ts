// The Azure LLM inference traces (Patel et al., Splitwise, ISCA 2024; CC-BY 4.0): one hour of
// TIMESTAMP, ContextTokens, GeneratedTokens.

import { readFileSync } from 'node:fs';

export interface TraceRequest {
  /** Arrival, ms since the first request. */
  at: number;
  input: number;
  output: number;
}

export function loadTrace(path: string): TraceRequest[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((line, k) => {
    const [ts, input, output] = line.split(',');
    // "2023-11-16 18:15:46.6805900": sub-millisecond digits beyond what Date parses are dropped.
    const row = { at: Date.parse(`${ts.slice(0, 23).replace(' ', 'T')}Z`), input: Number(input), output: Number(output) };
    // A row misread would be dropped or misplaced without a word (a NaN arrival sorts anywhere and
    // falls outside every time window), and the tables would describe a different trace.
    if (!Number.isFinite(row.at) || !Number.isSafeInteger(row.input) || row.input < 0 || !Number.isSafeInteger(row.output) || row.output < 1) {
      throw new Error(`${path}, line ${k + 2}: expected TIMESTAMP,ContextTokens,GeneratedTokens (a time, a token count, a count above 0), got ${JSON.stringify(line)}`);
    }
    return row;
  });
  if (rows.length === 0) throw new Error(`${path}: no requests after its header line`);
  // From the earliest request, wherever the file lists it: an arrival before 0 would count its wait from a time the replay never saw.
  let t0 = Infinity;
  for (const r of rows) t0 = Math.min(t0, r.at);
  return rows.map((r) => ({ ...r, at: r.at - t0 })).sort((a, b) => a.at - b.at);
}
