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
  const rows = lines.map((line) => {
    const [ts, input, output] = line.split(',');
    // "2023-11-16 18:15:46.6805900": sub-millisecond digits beyond what Date parses are dropped.
    return { at: Date.parse(`${ts.slice(0, 23).replace(' ', 'T')}Z`), input: Number(input), output: Number(output) };
  });
  const t0 = rows[0].at;
  return rows.map((r) => ({ ...r, at: r.at - t0 })).sort((a, b) => a.at - b.at);
}
