import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import type { BudgetStatus, SpendParams, SpendSummary, TeamLedgerStatus } from '../../daemon/protocol';
import { DayTimer, LiveFigures, msToNextLocalDay, ownBudgets, readSpend, worstBudget } from '../../extension/spendParts';

// Local midnight is the point: one zone with a daylight saving change (2026-03-29, 03:00 -> 04:00), whatever the machine's.
process.env.TZ = 'Europe/Helsinki';

function budget(scope: BudgetStatus['scope'], state: BudgetStatus['state'], workspace?: string): BudgetStatus {
  return { scope, ...(workspace ? { workspace } : {}), capNanoUsd: 1e9, softRatio: 0.8, spentNanoUsd: 0, reservedNanoUsd: 0, state };
}

describe('the spend the status bar shows', () => {
  it('reads every workspace\'s spend, as switchyard/spendChanged pushes it, so the totals do not flip between pushes and reads', async () => {
    const asked: [string, SpendParams][] = [];
    await readSpend(async (type, params) => {
      asked.push([type.method, params]);
      return {} as SpendSummary;
    });
    assert.deepEqual(asked, [['switchyard/spend', {}]]);
  });

  it('answers to the global caps and this window\'s workspace cap, not another window\'s reached one', () => {
    const budgets = [budget('day', 'ok'), budget('workspace', 'exceeded', '/src/a'), budget('month', 'warn'), budget('workspace', 'ok', '/src/b')];
    assert.deepEqual(ownBudgets(budgets, '/src/b'), [budgets[0], budgets[2], budgets[3]]);
    assert.equal(worstBudget(ownBudgets(budgets, '/src/b'))?.state, 'warn');
    assert.equal(worstBudget(ownBudgets(budgets, '/src/a')), budgets[1]);
    // A window without a folder has no workspace cap of its own.
    assert.deepEqual(ownBudgets(budgets, undefined), [budgets[0], budgets[2]]);
  });
});

describe('the figures the status bar shows as live', () => {
  const summary = (todayNanoUsd: number) => ({ todayNanoUsd } as SpendSummary);
  const ledger = (state: TeamLedgerStatus['state']) => ({ state } as TeamLedgerStatus);

  it('are the connected daemon\'s only: gone with the connection (a restart, a drop), a late push from the old daemon ignored, the new one\'s taken', () => {
    const figures = new LiveFigures();
    // What the status bar would show: today's spend and the team ledger's state.
    const shown = () => [figures.summary?.todayNanoUsd, figures.ledger?.state];
    assert.equal(figures.spend(summary(1)), false, 'nothing is live before the first connection');
    figures.connected(ledger('connected'));
    assert.equal(figures.spend(summary(42)), true);
    assert.deepEqual(shown(), [42, 'connected']);
    figures.disconnected();
    assert.deepEqual(shown(), [undefined, undefined], 'the old daemon\'s figures are not shown as live while the new one starts');
    // The old daemon, stopping, bills its last answers and pushes the spend once more.
    assert.equal(figures.spend(summary(43)), false);
    assert.equal(figures.team(ledger('connected')), false);
    figures.connected(ledger('off'));
    assert.deepEqual(shown(), [undefined, 'off'], 'the spend waits for the new daemon\'s');
    assert.equal(figures.spend(summary(44)), true);
    assert.deepEqual(shown(), [44, 'off']);
  });
});

describe('reading the spend again at local midnight', () => {
  afterEach(() => mock.timers.reset());

  it('waits until just past the next local midnight, a daylight saving day being 23 hours long', () => {
    assert.equal(msToNextLocalDay(new Date(2026, 2, 7, 23, 59, 30).getTime()), 31_000);
    assert.equal(msToNextLocalDay(new Date(2026, 2, 29, 0, 30).getTime()), 22.5 * 3_600_000 + 1000);
    assert.equal(msToNextLocalDay(new Date(2026, 2, 8).getTime()), 24 * 3_600_000 + 1000);
  });

  it('fires after each midnight, re-armed, until disposed', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: new Date(2026, 2, 7, 23, 59).getTime() });
    let days = 0;
    const timer = new DayTimer(() => days++);
    mock.timers.tick(60_000);
    assert.equal(days, 0, 'still before the margin past midnight');
    mock.timers.tick(1000);
    assert.equal(days, 1);
    mock.timers.tick(24 * 3_600_000);
    assert.equal(days, 2);
    timer.dispose();
    mock.timers.tick(48 * 3_600_000);
    assert.equal(days, 2);
  });
});
