// Every benchmark in bench/ runs to the end on a tiny load and prints its header and its table. The
// figures are not checked (a timed assertion is noise on a shared machine); what this catches is a
// benchmark that no longer starts, throws half-way or prints no rows, which nobody would notice until
// the next time someone needs its numbers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from '../support/daemon';

async function bench(script: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `${script} exited with ${code}:\n${err.slice(-3000)}\n${out.slice(-2000)}`);
  for (const line of ['command: node --import tsx', 'machine: ', 'date: ']) assert.ok(out.includes(line), `${script} prints "${line}…" in its header`);
  return out;
}

/** The cells of the table row whose first cells are `first` (trimmed), or undefined. */
function row(out: string, ...first: string[]): string[] | undefined {
  for (const line of out.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (first.every((f, i) => cells[i] === f)) return cells;
  }
  return undefined;
}

/** A figure as the benches print them: digits, maybe with thousands commas and a trailing x for a ratio. */
const number = (cell: string | undefined) => assert.match(cell ?? '', /^\d[\d,]*(\.\d+)?x?$/, `a number, not ${JSON.stringify(cell)}`);

test('bench/decision: a row per size and policy, with microseconds', { timeout: 300_000 }, async () => {
  const out = await bench('bench/decision/run.ts', ['--sites', '10,100', '--seconds', '0.02']);
  for (const sites of ['10', '100']) {
    const cells = row(out, sites, 'interactive');
    assert.ok(cells, `no row for ${sites} sites:\n${out}`);
    number(cells[2]);
    number(cells[3]);
  }
  assert.match(out, /control: fixed arithmetic/);
});

test('bench/placement: on a small trace, every strategy and the oracle have a row, costs against the oracle', { timeout: 300_000 }, async () => {
  const dir = tempDir('switchyard-bench-trace-');
  // Two minutes of the Azure traces' format: a request every second, prompts and answers of a few sizes.
  const trace = (file: string, input: number) => {
    const lines = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
    for (let i = 0; i < 120; i++) lines.push(`2023-11-16 18:${String(15 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.0000000,${input + (i % 7) * 90},${40 + (i % 5) * 60}`);
    fs.writeFileSync(path.join(dir, file), lines.join('\n') + '\n');
    return path.join(dir, file);
  };
  const out = await bench('bench/placement/run.ts', ['--conv', trace('conv.csv', 300), '--code', trace('code.csv', 1500), '--loads', '1']);
  for (const strategy of ['interactive', 'cheapest', 'litellm-latency', 'litellm-cost', 'round-robin', 'least-busy']) {
    const cells = row(out, strategy);
    assert.ok(cells, `no row for ${strategy}:\n${out}`);
    number(cells[1]);
    number(cells[2]);
  }
  assert.equal(row(out, 'oracle (hindsight greedy)')?.[2], '1.000');
});

test('bench/overhead: direct, the bare hop, Switchyard on disk and in RAM, and Portkey, for JSON and SSE', { timeout: 300_000 }, async () => {
  const out = await bench('bench/overhead/run.ts', ['10', '0.2', '2']);
  for (const mode of ['json', 'sse']) {
    // The RAM row needs room on tmpfs at /dev/shm; where there is none the bench says why and leaves it out.
    const ram = !/switchyard-ram: not measured: /.test(out);
    for (const target of ['direct', 'bare', 'switchyard', ...(ram ? ['switchyard-ram'] : []), 'portkey']) {
      const cells = row(out, mode, target);
      assert.ok(cells, `no ${mode} row for ${target}:\n${out}`);
      number(cells[2]);
    }
    number(row(out, mode, 'switchyard')?.[3]);
  }
  assert.match(out, /\| switchyard +\| \d+ MB/);
});

test('bench/ledger, bench/startup and bench/team print their tables', { timeout: 300_000 }, async () => {
  // The argument is the month's size for the recovery rows; the append rows have fixed sizes.
  const ledger = await bench('bench/ledger/run.ts', ['500']);
  number(row(ledger, 'durable appends/s, 1 concurrent appenders (2,000 receipts)')?.[1]);
  assert.ok(ledger.split('\n').some((l) => /^\| recovery of [\d,]+ receipts, full replay \(no snapshot\) +\| \d+ ms/.test(l)), ledger);
  const startup = await bench('bench/startup/run.ts', ['1']);
  number(row(startup, 'at once')?.[1]);
  const team = await bench('bench/team/run.ts', ['10', '2', '2']);
  assert.ok(row(team, 'sequential, team budget set'), team);
});
