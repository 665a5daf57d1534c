// Ledger.settled: the barrier that reads after an early answer wait on (export, /metrics). It resolves
// only once every append made before it is durable, whether that append is in the batch being synced
// or still queued behind it. Month files across a time zone change, and exports running at once.
//
// The time zone tests move the process between zones (process.env.TZ, read by Node at once), as a
// laptop that travels; the zone the test started in is put back afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BudgetExceededError, Meter } from '../../daemon/meter/index';
import { Ledger, listMonths } from '../../daemon/meter/ledger';
import { snapshotFile } from '../../daemon/meter/snapshot';
import { csvField } from '../../daemon/meter/export';
import type { Receipt } from '../../daemon/protocol';
import { makeReceipt } from '../fixtures/receipts';

async function inZones(fn: (zone: (tz: string) => void) => Promise<void>): Promise<void> {
  const saved = process.env.TZ;
  try {
    await fn((tz) => (process.env.TZ = tz));
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

const ids = (receipts: Receipt[]) => receipts.map((r) => r.id);

test('settled() waits for appends in flight and queued, and is immediate when idle', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ledger-settled-'));
  const durable: string[] = [];
  const ledger = await Ledger.open(dir, { onDurable: (entries) => durable.push(...entries.map((e) => e.receipt.id)) });
  try {
    await ledger.settled();
    const first = ledger.append(makeReceipt(0, { id: 'a' }));
    // Let the first batch start its write, so the next append waits in the queue behind it.
    await new Promise((resolve) => setImmediate(resolve));
    const second = ledger.append(makeReceipt(1, { id: 'b' }));
    await ledger.settled();
    assert.deepEqual(durable, ['a', 'b']);
    await Promise.all([first, second]);
    const third = ledger.append(makeReceipt(2, { id: 'c' }));
    await ledger.settled();
    assert.deepEqual(durable, ['a', 'b', 'c']);
    await third;
  } finally {
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a later month\'s file from before the start counts once that month comes, and never twice', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-later-'));
  const dir = path.join(stateDir, 'ledger');
  await inZones(async (zone) => {
    // In Berlin at 00:30 on 1 April (22:30 UTC on 31 March): the April file is written.
    zone('Europe/Berlin');
    let now = Date.parse('2026-03-31T22:30:00Z');
    const clock = () => now;
    let meter = await Meter.open(stateDir, { clock });
    await meter.record(makeReceipt(1, { nano: 1_000, createdAt: new Date(now).toISOString() }));
    await meter.close();
    // As after a crash: no snapshot, the April file is replayed in the zone the daemon is in then.
    await rm(snapshotFile(dir, '2026-04'));

    // In New York it is still 31 March, and that receipt was made today.
    zone('America/New_York');
    now = Date.parse('2026-03-31T23:00:00Z');
    const budgets = [{ scope: 'day' as const, capUsd: 0.00001, softRatio: 0.8 }, { scope: 'month' as const, capUsd: 0.00002, softRatio: 0.8 }];
    meter = await Meter.open(stateDir, { clock, budgets });
    await meter.record(makeReceipt(2, { nano: 2_000, createdAt: new Date(now).toISOString() }));
    assert.deepEqual(await listMonths(dir), ['2026-03', '2026-04']);
    assert.equal(meter.summary().todayNanoUsd, 3_000);
    await meter.close(); // the March snapshot covers the March file only
    meter = await Meter.open(stateDir, { clock, budgets });
    assert.deepEqual([meter.summary().todayNanoUsd, meter.summary().receipts], [3_000, 2], 'the April file\'s receipt is not also in March\'s snapshot');

    // 1 April in New York: the April file was there before the start, and its spend counts.
    now = Date.parse('2026-04-01T16:00:00Z');
    for (let i = 0; i < 2; i++) await meter.record(makeReceipt(10 + i, { nano: 4_000, createdAt: new Date(now + i).toISOString() }), meter.reserve({ worstCaseNanoUsd: 4_000 }));
    assert.deepEqual([meter.summary().todayNanoUsd, meter.summary().monthNanoUsd], [8_000, 8_000]);
    assert.throws(() => meter.reserve({ worstCaseNanoUsd: 4_000 }), BudgetExceededError);
    await meter.close();
    meter = await Meter.open(stateDir, { clock, budgets });
    assert.deepEqual([meter.summary().todayNanoUsd, meter.summary().monthNanoUsd, meter.recoveryReport.rollups], [8_000, 8_000, 'snapshot']);
    await meter.close();
  });
  await rm(stateDir, { recursive: true, force: true });
});

test('after a time zone change, export and receiptsSince find the receipts filed under the neighbouring month', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-zone-'));
  const a = makeReceipt(1, { createdAt: '2026-04-01T03:30:00.000Z' }); // 31 March 23:30 in New York, 1 April 05:30 in Berlin
  const b = makeReceipt(2, { createdAt: '2026-03-31T22:30:00.000Z' }); // 31 March 18:30 in New York, 1 April 00:30 in Berlin
  await inZones(async (zone) => {
    zone('America/New_York');
    const meter = await Meter.open(stateDir, { clock: () => Date.parse(a.createdAt) });
    await meter.record(a); // filed under March
    zone('Europe/Berlin');
    await meter.record(b); // filed under April
    assert.deepEqual(await listMonths(path.join(stateDir, 'ledger')), ['2026-03', '2026-04']);
    const exported = async (day: string) => {
      const out = path.join(stateDir, `${day}.json`);
      await meter.exportLedger({ path: out, format: 'json', from: day, to: day });
      return (JSON.parse(await readFile(out, 'utf8')) as Receipt[]).map((r) => r.id).sort();
    };
    assert.deepEqual(await exported('2026-04-01'), ['r-1', 'r-2'], 'in Berlin both are on 1 April: one is in the March file');
    const since: Receipt[] = [];
    for await (const chunk of meter.receiptsSince(Date.parse('2026-04-01T00:00:00Z'))) since.push(...chunk);
    assert.deepEqual(ids(since), ['r-1']);
    zone('America/New_York');
    assert.deepEqual(await exported('2026-03-31'), ['r-1', 'r-2'], 'in New York both are on 31 March: one is in the April file');
    await meter.close();
  });
  await rm(stateDir, { recursive: true, force: true });
});

test('two exports to one path at once each write a whole file; a failed one leaves no temp file', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-export-'));
  const meter = await Meter.open(stateDir);
  try {
    for (let i = 0; i < 300; i++) await meter.record(makeReceipt(i));
    const out = path.join(stateDir, 'spend.out');
    const results = await Promise.all([meter.exportLedger({ path: out, format: 'csv' }), meter.exportLedger({ path: out, format: 'json' })]);
    assert.deepEqual(results.map((r) => r.receipts), [300, 300]);
    // Whichever rename came last, the file is that export and nothing else.
    const text = await readFile(out, 'utf8');
    const got = text.startsWith('id,') ? text.split('\r\n').slice(1, -1).map((row) => row.split(',')[0]) : ids(JSON.parse(text) as Receipt[]);
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => `r-${i}`));

    const taken = path.join(stateDir, 'a-folder');
    await mkdir(taken);
    await assert.rejects(meter.exportLedger({ path: taken, format: 'csv' }));
    assert.deepEqual((await readdir(stateDir)).filter((n) => n.endsWith('.tmp')), []);
  } finally {
    await meter.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('a snapshot taken in another time zone is set aside: its cells hold that zone\'s days', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-snapshot-zone-'));
  await inZones(async (zone) => {
    // 00:30 on 11 March in Berlin is 19:30 on 10 March in New York.
    zone('Europe/Berlin');
    let now = Date.parse('2026-03-10T23:30:00Z');
    const clock = () => now;
    let meter = await Meter.open(stateDir, { clock });
    await meter.record(makeReceipt(1, { nano: 1_000, createdAt: new Date(now).toISOString() }));
    await meter.close(); // the March snapshot: 1,000 on 11 March

    // Back home in New York the same evening, the daemon starts again: that receipt was made today.
    zone('America/New_York');
    now = Date.parse('2026-03-11T01:00:00Z'); // 21:00 on 10 March
    const budgets = [{ scope: 'day' as const, capUsd: 0.0000015, softRatio: 0.8 }];
    meter = await Meter.open(stateDir, { clock, budgets });
    assert.equal(meter.recoveryReport.rollups, 'snapshot taken in another time zone');
    assert.deepEqual([meter.summary().day, meter.summary().todayNanoUsd], ['2026-03-10', 1_000]);
    assert.throws(() => meter.reserve({ worstCaseNanoUsd: 1_000 }), BudgetExceededError, 'the daily cap counts it');
    await meter.close();
    // Taken again in New York, the snapshot is trusted there.
    meter = await Meter.open(stateDir, { clock });
    assert.deepEqual([meter.recoveryReport.rollups, meter.summary().todayNanoUsd], ['snapshot', 1_000]);
    await meter.close();
  });
  await rm(stateDir, { recursive: true, force: true });
});

test('a CSV field that a spreadsheet would run as a formula is written as text; the rest as RFC 4180 has it', () => {
  // An upstream's error message, a tool's workspace name: text a provider or a client chose.
  assert.equal(csvField('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  for (const lead of ['+', '-', '@', '\t']) assert.equal(csvField(`${lead}1+1`), `'${lead}1+1`);
  assert.equal(csvField('a, "b"'), '"a, ""b"""');
  assert.equal(csvField('plain'), 'plain');
  // Numbers are numbers, however they start.
  assert.equal(csvField(-5), '-5');
  assert.equal(csvField(0.5), '0.5');
});

test('a failed export names the file asked for, and leaves no temp file nor a ledger file open behind it', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-export-fail-'));
  const meter = await Meter.open(stateDir);
  // The ledger file's descriptors, where the system lists them (Linux).
  const ledgerFds = async () => {
    if (!existsSync('/proc/self/fd')) return [];
    const links = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return links.filter((l) => l.startsWith(path.join(stateDir, 'ledger') + path.sep));
  };
  try {
    for (let i = 0; i < 50; i++) await meter.record(makeReceipt(i));
    const open = (await ledgerFds()).length;
    // The temp file beside it cannot be made (as in a folder that is not writable): the stream fails
    // while the ledger is being read, and the reading must stop with it.
    const out = path.join(stateDir, 'no-such-folder', 'spend.csv');
    await assert.rejects(meter.exportLedger({ path: out, format: 'csv' }), (error: Error) => {
      assert.ok(error.message.includes(out), error.message);
      assert.ok(!error.message.includes('.tmp'), `names a file the user never chose: ${error.message}`);
      return true;
    });
    assert.equal((await ledgerFds()).length, open, 'the export still holds a ledger file open');
    assert.deepEqual((await readdir(stateDir)).filter((n) => n.endsWith('.tmp')), []);
  } finally {
    await meter.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('moving east across a month\'s end: last month\'s file holds receipts of today, and they count against today\'s cap', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ledger-east-'));
  await inZones(async (zone) => {
    // 21:00 on 31 March in New York, filed under March: 03:00 on 1 April in Berlin.
    zone('America/New_York');
    let now = Date.parse('2026-04-01T01:00:00Z');
    const clock = () => now;
    let meter = await Meter.open(stateDir, { clock });
    await meter.record(makeReceipt(1, { nano: 5_000, createdAt: new Date(now).toISOString() }));
    await meter.close();

    zone('Europe/Berlin');
    now = Date.parse('2026-04-01T06:00:00Z');
    meter = await Meter.open(stateDir, { clock, budgets: [{ scope: 'day', capUsd: 0.000006, softRatio: 0.8 }] });
    assert.deepEqual([meter.summary().todayNanoUsd, meter.summary().monthNanoUsd], [5_000, 5_000]);
    assert.throws(() => meter.reserve({ worstCaseNanoUsd: 2_000 }), BudgetExceededError, 'the day\'s cap sees what was spent today under last month\'s file');
    await meter.close();
  });
  await rm(stateDir, { recursive: true, force: true });
});
