import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Redactor } from '../../daemon/log/redact';
import { Team } from '../../daemon/team';

/** Whether a package's module is loaded in this process (each test file runs in a process of its own). */
function loaded(pkg: string): boolean {
  const dir = `${path.sep}node_modules${path.sep}${pkg}${path.sep}`;
  return Object.keys(require.cache).some((file) => file.includes(dir));
}

test('the Redis and PostgreSQL clients load only when the team names a server for them', async () => {
  const quiet = { info() {}, warn() {} };
  const team = new Team({ site: () => undefined, observe() {}, now: () => 0, async *receiptsSince() {}, log: quiet, redactor: new Redactor() });
  try {
    assert.equal(team.status().ledger.state, 'off');
    assert.equal(loaded('pg'), false, 'pg is loaded before any team ledger is set');
    assert.equal(loaded('@redis/client'), false, 'the Redis client is loaded before any team telemetry is set');
    // Port 9 (discard) refuses on loopback: the links only have to be made, not to come up.
    await team.set({ ledgerUrl: 'postgres://switchyard@127.0.0.1:9/switchyard' });
    assert.equal(loaded('pg'), true);
    assert.equal(loaded('@redis/client'), false);
    await team.set({ telemetryUrl: 'redis://127.0.0.1:9' });
    assert.equal(loaded('@redis/client'), true);
  } finally {
    await team.close();
  }
});
