// Recovery details and export: damaged lines, snapshots that no longer match, day and month
// boundaries with an injected clock, CSV/JSON export of a date range across month files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Meter } from '../../daemon/meter/index';
import { monthFile } from '../../daemon/meter/ledger';
import { checksum, encodeLine } from '../../daemon/meter/ledger-line';
import { snapshotFile } from '../../daemon/meter/snapshot';
import { makeReceipt } from '../fixtures/receipts';

const at = (y: number, m: number, d: number, h = 12) => new Date(y, m - 1, d, h).getTime();

async function tempState(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'ledger-rec-'));
}

test('day and month boundaries follow the injected clock; month files roll over', async () => {
  const stateDir = await tempState();
  let now = at(2026, 7, 31, 23);
  const meter = await Meter.open(stateDir, { clock: () => now, budgets: [{ scope: 'day', capUsd: 0.00001, softRatio: 0.5 }] });
  await meter.record(makeReceipt(1, { nano: 9_000, createdAt: new Date(now).toISOString() }));
  assert.equal(meter.summary().todayNanoUsd, 9_000);
  assert.equal(meter.budgets()[0].state, 'warn');
  now = at(2026, 8, 1, 0);
  assert.deepEqual([meter.summary().todayNanoUsd, meter.summary().monthNanoUsd, meter.summary().month], [0, 0, '2026-08']);
  assert.equal(meter.budgets()[0].state, 'ok');
  await meter.record(makeReceipt(2, { nano: 500, createdAt: new Date(now).toISOString() }));
  assert.equal(meter.summary().todayNanoUsd, 500);
  await meter.close();
  const dir = path.join(stateDir, 'ledger');
  assert.equal((await readFile(monthFile(dir, '2026-07'), 'utf8')).split('\n').length, 2);
  assert.equal((await readFile(monthFile(dir, '2026-08'), 'utf8')).split('\n').length, 2);
  await rm(stateDir, { recursive: true, force: true });
});

test('the summary lists the latest requests newest first, ten at most, of every workspace, and again after a restart', async () => {
  const stateDir = await tempState();
  let meter = await Meter.open(stateDir);
  for (let i = 0; i < 14; i++) await meter.record(makeReceipt(i, { nano: 1000 + i, createdAt: new Date(Date.now() + i).toISOString() }));
  const recent = meter.summary().recent;
  assert.deepEqual(recent.map((r) => r.receiptId), Array.from({ length: 10 }, (_, k) => `r-${13 - k}`));
  assert.deepEqual(recent[0], { receiptId: 'r-13', placementId: 'p-13', createdAt: recent[0].createdAt, client: 'test', model: makeReceipt(13).model, site: makeReceipt(13).site, outcome: 'complete', costNanoUsd: 1013, totalMs: makeReceipt(13).totalMs, workspace: 'ws-1' });
  // makeReceipt puts receipt i in workspace ws-(i % 4), none for i % 4 === 0: a workspace's summary lists them all the same.
  assert.deepEqual(meter.summary('ws-1').recent, recent);
  await meter.close();
  meter = await Meter.open(stateDir);
  assert.deepEqual(meter.summary().recent.map((r) => r.receiptId), recent.map((r) => r.receiptId), 'replayed from the ledger at start');
  await meter.close();
  await rm(stateDir, { recursive: true, force: true });
});

test('spend is summed by client; a snapshot from before cells had a client is set aside and the month replayed', async () => {
  const stateDir = await tempState();
  const now = at(2026, 4, 2);
  const clock = () => now;
  let meter = await Meter.open(stateDir, { clock });
  const doors = ['editor', 'editor:vscode.lm', 'openai-api:aider', 'editor'];
  for (const [i, client] of doors.entries()) await meter.record({ ...makeReceipt(i, { nano: 100 * (i + 1), createdAt: new Date(now).toISOString() }), client });
  const byClient = { editor: 100 + 400, 'editor:vscode.lm': 200, 'openai-api:aider': 300 };
  assert.deepEqual(meter.summary().byClient, byClient);
  await meter.close();
  meter = await Meter.open(stateDir, { clock });
  assert.deepEqual([meter.recoveryReport.rollups, meter.recoveryReport.replayed], ['snapshot', 0], 'the snapshot covers the month');
  assert.deepEqual(meter.summary().byClient, byClient);
  await meter.close();

  // The same snapshot as the previous format wrote it: version 1, cells without a client.
  const file = snapshotFile(path.join(stateDir, 'ledger'), '2026-04');
  const current = JSON.parse((await readFile(file, 'utf8')).split('\n')[0]) as { version: number; cells: { client?: string }[] };
  const old = JSON.stringify({ ...current, version: 1, cells: current.cells.map(({ client: _, ...cell }) => cell) });
  await writeFile(file, `${old}\n${checksum(old)}\n`);
  meter = await Meter.open(stateDir, { clock });
  assert.deepEqual([meter.recoveryReport.rollups, meter.recoveryReport.replayed], ['snapshot of another version or month', 4]);
  assert.deepEqual(meter.summary().byClient, byClient);
  await meter.close();
  await rm(stateDir, { recursive: true, force: true });
});

test('a damaged middle line is skipped and reported, a torn tail is cut, a stale snapshot is not trusted', async () => {
  const stateDir = await tempState();
  const now = at(2026, 3, 10);
  const clock = () => now;
  const file = monthFile(path.join(stateDir, 'ledger'), '2026-03');
  let meter = await Meter.open(stateDir, { clock });
  for (let i = 0; i < 5; i++) await meter.record(makeReceipt(i, { nano: 100, createdAt: new Date(now).toISOString() }));
  await meter.close(); // writes the snapshot at the end of the 5 lines

  // Damage line 2 in place and tear the tail. The snapshot covers line 2, so it goes first: a
  // snapshot vouches for the prefix it summed and nothing is re-read there.
  const dir = path.join(stateDir, 'ledger');
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines[1] = lines[1].replace('"r-1"', '"r-X"');
  await writeFile(file, lines.join('\n') + '{"receipt":{"id":"half');
  await rm(snapshotFile(dir, '2026-03'));
  meter = await Meter.open(stateDir, { clock });
  const report = meter.recoveryReport;
  assert.equal(report.files.length, 1);
  assert.equal(report.files[0].corruptAt.length, 1);
  assert.ok(report.files[0].tornBytes > 0);
  assert.equal(report.rollups, 'no snapshot');
  assert.deepEqual([meter.summary().receipts, meter.summary().monthNanoUsd], [4, 400]);
  await meter.record(makeReceipt(9, { nano: 100, createdAt: new Date(now).toISOString() }));
  await meter.close();
  const after = (await readFile(file, 'utf8')).split('\n');
  assert.equal(after.length, 7, 'five old lines, the new one, and the final newline');
  assert.ok(!after.some((l) => l.includes('half')));

  // The ledger lost its last line after the snapshot was taken: the snapshot no longer matches.
  await writeFile(file, after.slice(0, 5).join('\n') + '\n');
  meter = await Meter.open(stateDir, { clock });
  assert.equal(meter.recoveryReport.rollups, 'snapshot does not match the ledger file');
  assert.deepEqual([meter.summary().receipts, meter.recoveryReport.replayed], [4, 4]);
  await meter.record(makeReceipt(10, { nano: 100, createdAt: new Date(now).toISOString() }));
  await meter.close();

  // A snapshot with a bad checksum falls back to a full replay.
  await appendFile(snapshotFile(dir, '2026-03'), 'x');
  meter = await Meter.open(stateDir, { clock });
  assert.equal(meter.recoveryReport.rollups, 'snapshot checksum mismatch');
  assert.deepEqual([meter.summary().receipts, meter.recoveryReport.replayed], [5, 5]);
  await meter.close();
  await rm(stateDir, { recursive: true, force: true });
});

test('export CSV and JSON for an inclusive date range across month files', async () => {
  const stateDir = await tempState();
  const meter = await Meter.open(stateDir, { clock: () => at(2026, 8, 2) });
  const days = [[2026, 7, 30], [2026, 7, 31], [2026, 8, 1], [2026, 8, 2]] as const;
  let i = 0;
  for (const [y, m, d] of days) {
    for (let k = 0; k < 3; k++, i++) {
      await meter.record(makeReceipt(i, { nano: 1_234_567, createdAt: new Date(at(y, m, d, 9 + k)).toISOString(), error: i === 4 ? 'upstream said "no", then\nclosed' : undefined }));
    }
  }
  const csvPath = path.join(stateDir, 'out.csv');
  const csv = await meter.exportLedger({ path: csvPath, format: 'csv', from: '2026-07-31', to: '2026-08-01' });
  assert.equal(csv.receipts, 6);
  const text = await readFile(csvPath, 'utf8');
  assert.ok(text.startsWith('id,createdAt,day,'));
  assert.ok(text.includes('"upstream said ""no"", then\nclosed"'), 'quotes doubled, the field quoted');
  assert.ok(text.includes(',1234567,0.001234567\r\n'));
  const ids = text.split('\r\n').slice(1, -1).map((row) => row.split(',')[0]);
  assert.deepEqual(ids, ['r-3', 'r-4', 'r-5', 'r-6', 'r-7', 'r-8']);

  const jsonPath = path.join(stateDir, 'out.json');
  const json = await meter.exportLedger({ path: jsonPath, format: 'json', from: '2026-08-02' });
  assert.equal(json.receipts, 3);
  const parsed = JSON.parse(await readFile(jsonPath, 'utf8'));
  assert.deepEqual(parsed.map((r: { id: string }) => r.id), ['r-9', 'r-10', 'r-11']);

  const empty = await meter.exportLedger({ path: jsonPath, format: 'json', from: '2025-01-01', to: '2025-01-31' });
  assert.deepEqual([empty.receipts, JSON.parse(await readFile(jsonPath, 'utf8'))], [0, []]);
  await assert.rejects(meter.exportLedger({ path: jsonPath, format: 'json', from: '2026-08-05', to: '2026-08-01' }), /from is after to/);
  await meter.close();
  await rm(stateDir, { recursive: true, force: true });
});

test('recovery starts whatever the files hold, and keeps every valid receipt: garbage, foreign bytes, a long line, empty and future files', async () => {
  const stateDir = await tempState();
  const dir = path.join(stateDir, 'ledger');
  await mkdir(dir, { recursive: true });
  let now = at(2026, 5, 15);
  const clock = () => now;
  const receipt = (i: number, time = now, over = {}) => makeReceipt(i, { nano: 100 * (i + 1), createdAt: new Date(time).toISOString(), ...over });
  // Longer than a read chunk (4 MB), so the line is put together across reads.
  const long = receipt(3, now, { error: 'x'.repeat(5_000_000) });
  await writeFile(monthFile(dir, '2026-05'), Buffer.concat([
    encodeLine(receipt(0)), 'not a receipt\n', encodeLine(receipt(1)), Buffer.from([0xff, 0xfe, 0xc3, 0x0a]),
    encodeLine(receipt(2)), encodeLine(long), encodeLine(receipt(4)).slice(0, 60),
  ].map((part) => (typeof part === 'string' ? Buffer.from(part) : part))));
  await writeFile(monthFile(dir, '2026-04'), 'all\ngarbage');
  await writeFile(monthFile(dir, '2026-03'), '');
  await writeFile(monthFile(dir, '2026-07'), encodeLine(receipt(9, at(2026, 7, 1))));

  let meter = await Meter.open(stateDir, { clock });
  const damaged = Object.fromEntries(meter.recoveryReport.files.map((f) => [path.basename(f.file), [f.corruptAt.length, f.tornBytes]]));
  assert.deepEqual(damaged, { '2026-04.jsonl': [0, 11], '2026-05.jsonl': [2, 60] });
  assert.deepEqual([meter.summary().receipts, meter.summary().monthNanoUsd], [4, 100 + 200 + 300 + 400]);
  await meter.record(receipt(5));
  await meter.close();

  meter = await Meter.open(stateDir, { clock });
  assert.deepEqual(meter.recoveryReport.files, []);
  assert.deepEqual([meter.summary().receipts, meter.summary().monthNanoUsd], [5, 1_600]);
  const out = path.join(stateDir, 'all.json');
  await meter.exportLedger({ path: out, format: 'json' });
  const ids = (JSON.parse(await readFile(out, 'utf8')) as { id: string }[]).map((r) => r.id);
  assert.deepEqual(ids, ['r-0', 'r-1', 'r-2', 'r-3', 'r-5', 'r-9']);
  await meter.close();

  // The month the clock once ran ahead to comes: its receipt counts then.
  now = at(2026, 7, 2);
  meter = await Meter.open(stateDir, { clock });
  assert.deepEqual([meter.summary().receipts, meter.summary().monthNanoUsd], [1, 1_000]);
  await meter.close();
  await rm(stateDir, { recursive: true, force: true });
});
