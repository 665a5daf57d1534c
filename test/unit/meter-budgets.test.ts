// Budgets: reservations against caps under heavy interleaving, refusals with the right numbers,
// failover resize, and cap states.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BudgetExceededError, Meter, type Reservation } from '../../daemon/meter/index';
import { capsFromWindow } from '../../daemon/meter/budgets';
import type { BudgetCap } from '../../daemon/protocol';
import { makeReceipt } from '../fixtures/receipts';

async function withMeter(fn: (meter: Meter) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'meter-budget-'));
  const meter = await Meter.open(dir);
  try {
    await fn(meter);
  } finally {
    await meter.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const CAP = 1_000_000; // $0.001
const tick = () => new Promise<void>((resolve) => (Math.random() < 0.5 ? setImmediate(resolve) : setTimeout(resolve, Math.random() * 3)));

test('hundreds of concurrent requests never overshoot a small cap; refusals carry the numbers', async () => {
  await withMeter(async (meter) => {
    meter.setBudgets([{ scope: 'day', capUsd: 0.001, softRatio: 0.8 }, { scope: 'workspace', workspace: 'ws-1', capUsd: 0.0004, softRatio: 0.5 }]);
    let refused = 0;
    let next = 0;
    const check = () => {
      const day = meter.budgets().find((b) => b.scope === 'day')!;
      assert.ok(day.spentNanoUsd + day.reservedNanoUsd <= CAP, `spent ${day.spentNanoUsd} + reserved ${day.reservedNanoUsd} > cap`);
    };
    const request = async (i: number) => {
      const workspace = i % 3 === 0 ? 'ws-1' : 'ws-2';
      const worst = 5_000 + (i % 7) * 3_000;
      let reservation: Reservation;
      await tick();
      const before = meter.budgets();
      try {
        reservation = meter.reserve({ worstCaseNanoUsd: worst, workspace });
      } catch (error) {
        assert.ok(error instanceof BudgetExceededError);
        const d = error.data;
        const status = before.find((b) => b.scope === d.scope && b.workspace === d.workspace)!;
        // Nothing ran between `before` and the refusal: the error must quote exactly that state.
        assert.deepEqual(
          [d.capNanoUsd, d.spentNanoUsd, d.reservedNanoUsd, d.worstCaseNanoUsd],
          [status.capNanoUsd, status.spentNanoUsd, status.reservedNanoUsd, worst],
        );
        assert.equal(d.remainingNanoUsd, Math.max(0, d.capNanoUsd - d.spentNanoUsd - d.reservedNanoUsd));
        assert.ok(d.remainingNanoUsd < worst);
        assert.match(error.message, /budget \$0\.\d+ (reached|would be exceeded): spent \$.*, reserved \$.*, remaining \$.*; this request could cost up to \$/);
        refused++;
        return;
      }
      check();
      await tick();
      if (i % 5 === 0) {
        // Failover to a dearer site: the same reservation grows or the request stops here.
        try {
          reservation.resize(worst * 2);
        } catch (error) {
          assert.ok(error instanceof BudgetExceededError);
          assert.equal(reservation.nanoUsd, worst, 'a refused resize leaves the reservation as it was');
          reservation.release();
          return;
        }
        await tick();
      }
      check();
      if (i % 4 === 1) {
        reservation.release(); // failed before anything was billed
      } else {
        const cost = Math.floor(reservation.nanoUsd * (0.3 + Math.random() * 0.7));
        await meter.record(makeReceipt(next++, { nano: cost, workspace }), reservation);
      }
      check();
    };
    await Promise.all(Array.from({ length: 400 }, (_, i) => request(i)));
    const summary = meter.summary();
    assert.ok(summary.todayNanoUsd <= CAP, `spent ${summary.todayNanoUsd}`);
    assert.ok(summary.byWorkspace['ws-1'] <= 400_000);
    assert.equal(summary.reservedNanoUsd, 0, 'every reservation settled or released');
    assert.ok(refused > 50, `only ${refused} refusals: the cap was not under pressure`);
    assert.ok(summary.todayNanoUsd > CAP * 0.3, `only ${summary.todayNanoUsd} spent: the cap was not under pressure`);
  });
});

test('a free site cannot hide a paid failover, and states follow spend', async () => {
  await withMeter(async (meter) => {
    meter.setBudgets([{ scope: 'month', capUsd: 0.00001, softRatio: 0.5 }]); // 10,000 nano
    const free = meter.reserve({ worstCaseNanoUsd: 0 });
    assert.throws(() => free.resize(20_000), (e: unknown) => e instanceof BudgetExceededError && e.data.scope === 'month' && e.data.worstCaseNanoUsd === 20_000);
    free.release();
    assert.equal(meter.budgets()[0].state, 'ok');
    await meter.record(makeReceipt(1, { nano: 6_000 }), meter.reserve({ worstCaseNanoUsd: 7_000 }));
    assert.equal(meter.budgets()[0].state, 'warn');
    const e = (() => {
      try {
        meter.reserve({ worstCaseNanoUsd: 4_001 });
      } catch (error) {
        return error as BudgetExceededError;
      }
      assert.fail('reserved past the cap');
    })();
    assert.equal(
      e.message,
      'Monthly budget $0.00001 would be exceeded: spent $0.000006, reserved $0.00, remaining $0.000004; this request could cost up to $0.000004',
    );
    await meter.record(makeReceipt(2, { nano: 4_000 }), meter.reserve({ worstCaseNanoUsd: 4_000 }));
    assert.equal(meter.budgets()[0].state, 'exceeded');
  });
});

test('while a receipt is made durable its reservation holds what the answer cost, not its worst case', async () => {
  await withMeter(async (meter) => {
    meter.setBudgets([{ scope: 'day', capUsd: 0.0001, softRatio: 0.8 }]); // 100,000 nano
    // An answer allowed 90,000 that cost 1,000: the next request must find the room it left.
    const recorded = meter.record(makeReceipt(1, { nano: 1_000, workspace: null }), meter.reserve({ worstCaseNanoUsd: 90_000 }));
    assert.equal(meter.summary().reservedNanoUsd, 1_000);
    const next = meter.reserve({ worstCaseNanoUsd: 90_000 });
    // A bill above its worst case is held whole, past the cap, since that money is spent.
    const over = meter.record(makeReceipt(2, { nano: 12_000, workspace: null }), meter.reserve({ worstCaseNanoUsd: 5_000 }));
    assert.equal(meter.summary().reservedNanoUsd, 1_000 + 90_000 + 12_000);
    await Promise.all([recorded, over]);
    next.release();
    assert.equal(meter.summary().reservedNanoUsd, 0);
    assert.equal(meter.summary().todayNanoUsd, 13_000);
  });
});

test('invalid caps are refused and change nothing', async () => {
  await withMeter(async (meter) => {
    meter.setBudgets([{ scope: 'day', capUsd: 5, softRatio: 0.8 }]);
    assert.throws(() => meter.setBudgets([{ scope: 'workspace', capUsd: 1, softRatio: 0.5 }]), /workspace is required/);
    assert.throws(() => meter.setBudgets([{ scope: 'day', capUsd: -1, softRatio: 0.5 }]), /capUsd/);
    assert.equal(meter.budgets()[0].capNanoUsd, 5_000_000_000);
  });
});

test('remainingNanoUsd is the least headroom under the caps a reservation for that workspace is held to, spent and reserved alike', async () => {
  await withMeter(async (meter) => {
    const least = (workspace?: string) => {
      const budgets = meter.summary(workspace).budgets.filter((b) => b.scope !== 'workspace' || b.workspace === workspace);
      return budgets.length === 0 ? undefined : Math.min(...budgets.map((b) => Math.max(0, b.capNanoUsd - b.spentNanoUsd - b.reservedNanoUsd)));
    };
    assert.equal(meter.remainingNanoUsd(), undefined);
    meter.setBudgets([
      { scope: 'day', capUsd: 0.00005, softRatio: 0.8 },
      { scope: 'month', capUsd: 0.0001, softRatio: 0.8 },
      { scope: 'workspace', workspace: 'ws-1', capUsd: 0.00002, softRatio: 0.5 },
      { scope: 'workspace', workspace: 'ws-2', capUsd: 0.00003, softRatio: 0.5 },
    ]);
    const held = meter.reserve({ worstCaseNanoUsd: 3_000, workspace: 'ws-2' });
    await meter.record(makeReceipt(1, { nano: 7_000, workspace: 'ws-1' }), meter.reserve({ worstCaseNanoUsd: 7_000, workspace: 'ws-1' }));
    await meter.record(makeReceipt(4, { nano: 2_000, workspace: null }), meter.reserve({ worstCaseNanoUsd: 2_000 }));
    for (const workspace of [undefined, 'ws-1', 'ws-2', 'ws-3']) assert.equal(meter.remainingNanoUsd(workspace), least(workspace), `workspace ${workspace}`);
    assert.equal(meter.remainingNanoUsd('ws-1'), 20_000 - 7_000);
    // Without a workspace only the global caps hold: ws-1's nearly spent cap does not shrink it.
    assert.equal(meter.remainingNanoUsd(), 50_000 - 9_000 - 3_000);
    const unbooked = meter.reserve({ worstCaseNanoUsd: 30_000 });
    assert.equal(meter.remainingNanoUsd(), 50_000 - 9_000 - 33_000);
    unbooked.release();
    held.release();
    meter.setBudgets([{ scope: 'day', capUsd: 0, softRatio: 0.8 }]);
    assert.equal(meter.remainingNanoUsd('ws-1'), 0);
  });
});

test('a day or month cap takes no workspace: refused naming the field, and dropped from saved caps so a start still succeeds', async () => {
  await withMeter(async (meter) => {
    meter.setBudgets([{ scope: 'day', capUsd: 5, softRatio: 0.8 }]);
    for (const scope of ['day', 'month'] as const) {
      assert.throws(() => meter.setBudgets([{ scope, workspace: 'ws-1', capUsd: 0.00001, softRatio: 0.8 }]), /caps\[0\]\.workspace is only for scope "workspace"/);
    }
    assert.deepEqual(meter.budgets().map((b) => [b.scope, b.capNanoUsd]), [['day', 5_000_000_000]]);
  });
  // A settings file saved while such a cap was accepted: the cap is the global monthly one it was shown as.
  const dir = await mkdtemp(path.join(tmpdir(), 'meter-budget-'));
  const told: string[] = [];
  const meter = await Meter.open(dir, { budgets: [{ scope: 'month', workspace: 'ws-1', capUsd: 0.00001, softRatio: 0.8 }], log: (m) => told.push(m) });
  try {
    assert.equal(told.length, 1);
    await meter.record(makeReceipt(2, { nano: 9_000 })); // workspace ws-2
    await meter.record(makeReceipt(4, { nano: 9_000 })); // no workspace
    assert.deepEqual([meter.budgets()[0].workspace, meter.budgets()[0].spentNanoUsd, meter.budgets()[0].state], [undefined, 18_000, 'exceeded']);
    assert.throws(() => meter.reserve({ worstCaseNanoUsd: 9_000, workspace: 'ws-1' }), BudgetExceededError);
  } finally {
    await meter.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('caps from an editor window replace the global caps and its workspace\'s; other workspaces\' stay', () => {
  const cap = (scope: BudgetCap['scope'], capUsd: number, workspace?: string): BudgetCap => ({ scope, capUsd, softRatio: 0.8, ...(workspace ? { workspace } : {}) });
  const current = [cap('day', 5), cap('month', 50), cap('workspace', 1, '/a'), cap('workspace', 2, '/b')];
  assert.deepEqual(capsFromWindow(current, [cap('day', 6), cap('workspace', 3, '/a')], '/a'), [cap('day', 6), cap('workspace', 3, '/a'), cap('workspace', 2, '/b')]);
  assert.deepEqual(capsFromWindow(current, [cap('day', 6)], '/a'), [cap('day', 6), cap('workspace', 2, '/b')], 'its own cap removed');
  assert.deepEqual(capsFromWindow(current, [], null), [cap('workspace', 1, '/a'), cap('workspace', 2, '/b')], 'a window without a workspace');
  assert.deepEqual(capsFromWindow(current, [cap('day', 6)], undefined), [cap('day', 6)], 'a client that names no window');
  assert.deepEqual(capsFromWindow(current, [cap('workspace', 9, '/b')], '/a'), [cap('workspace', 9, '/b')], 'a cap sent for another workspace replaces it');
});
