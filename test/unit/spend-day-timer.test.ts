// "Today" in the status bar and the spend view is read again after local midnight (DayTimer). A timer's
// delay runs on a clock that stands still while the machine sleeps: a laptop closed in the evening and
// opened in the morning must still read the new day at once, not hours later.

import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { DayTimer } from '../../extension/spendParts';

process.env.TZ = 'Europe/Helsinki';

describe('the spend read again at a new day', () => {
  afterEach(() => mock.timers.reset());

  it('is read soon after the machine wakes on a later day, once', () => {
    // Timers are mocked, the wall clock is the test's: sleeping moves the one and not the other.
    mock.timers.enable({ apis: ['setTimeout'] });
    let wall = new Date(2026, 2, 7, 18, 0).getTime();
    let days = 0;
    const timer = new DayTimer(() => days++, () => wall);
    mock.timers.tick(30 * 60_000);
    wall += 30 * 60_000;
    assert.equal(days, 0);
    // Asleep from 18:30 to 08:00: no timer time passes meanwhile.
    wall = new Date(2026, 2, 8, 8, 0).getTime();
    mock.timers.tick(60_000);
    wall += 60_000;
    assert.equal(days, 1, 'read within a minute of waking');
    for (let i = 0; i < 10; i++) {
      mock.timers.tick(60_000);
      wall += 60_000;
    }
    assert.equal(days, 1, 'the same day is not read again');
    timer.dispose();
  });
});
