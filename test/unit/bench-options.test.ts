// A benchmark given a bad option says which and stops, rather than print a table from what it misread
// (a load of NaN, a strategy name with a typo left out of the table, a sampling time of NaN seconds).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.join(__dirname, '../..');

function run(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('bench/placement refuses a bad option, naming it, before printing anything', () => {
  // A short run, so that one that does not refuse ends soon too.
  for (const [args, says] of [
    [['--minutes', '1', '--loads', '1,x'], '--loads 1,x: "x" is not a positive load factor'],
    [['--minutes', '1', '--loads', '0'], '"0" is not a positive load factor'],
    [['--minutes', 'ten'], '--minutes ten'],
    [['--minutes', '1', '--strategies', 'interactive,litelm-latency'], 'no strategy "litelm-latency"'],
    [['--minutes', '1', '--blind', '95'], '"95" is not a confidence between 0 and 1'],
  ] as const) {
    const { code, out, err } = run('bench/placement/run.ts', [...args]);
    assert.equal(code, 2, `${args.join(' ')}: exit ${code}\n${err}`);
    assert.ok(err.includes(says), `${args.join(' ')}: ${err}`);
    assert.equal(out, '');
  }
});

test('bench/decision refuses a bad option, naming it, before measuring anything', () => {
  for (const [args, says] of [
    [['--sites', '10,x'], '--sites 10,x: "x" is not a whole number of sites above 0'],
    [['--seconds', 'x'], '--seconds x: not a positive number of seconds'],
    [['--policies', 'balnced'], 'no built-in policy "balnced"'],
  ] as const) {
    const { code, out, err } = run('bench/decision/run.ts', [...args]);
    assert.equal(code, 2, `${args.join(' ')}: exit ${code}\n${err}`);
    assert.ok(err.includes(says), `${args.join(' ')}: ${err}`);
    assert.equal(out, '');
  }
});
