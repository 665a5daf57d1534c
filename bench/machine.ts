// The header every benchmark prints: what ran, where, when.

import { cpus, platform, release } from 'node:os';

export function header(title: string): string {
  const cpu = cpus();
  return [
    `# ${title}`,
    `command: node --import tsx ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`,
    `machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cores, ${platform()} ${release()}, Node ${process.version}`,
    `date: ${new Date().toISOString()}`,
  ].join('\n');
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) => `| ${r.map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
