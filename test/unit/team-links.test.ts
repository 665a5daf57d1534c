import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { Redactor } from '../../daemon/log/redact';
import { Team, TeamProblem } from '../../daemon/team';

/** Whether a package's module is loaded in this process (each test file runs in a process of its own). */
function loaded(pkg: string): boolean {
  const dir = `${path.sep}node_modules${path.sep}${pkg}${path.sep}`;
  return Object.keys(require.cache).some((file) => file.includes(dir));
}

/** A loopback port nothing listens on: connecting to it is refused at once. */
async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function team(lines: { message: string; server?: string }[] = []): Team {
  const log = { info: (message: string, fields?: object) => lines.push({ message, ...fields }), warn: (message: string, fields?: object) => lines.push({ message, ...fields }) };
  return new Team({ site: () => undefined, observe() {}, now: () => 0, async *receiptsSince() {}, log, redactor: new Redactor() });
}

test('the Redis and PostgreSQL clients load only when the team names a server for them', async () => {
  const t = team();
  try {
    assert.equal(t.status().ledger.state, 'off');
    assert.equal(loaded('pg'), false, 'pg is loaded before any team ledger is set');
    assert.equal(loaded('@redis/client'), false, 'the Redis client is loaded before any team telemetry is set');
    // The links only have to be made, not to come up.
    await t.set({ ledgerUrl: `postgres://switchyard@127.0.0.1:${await refusedPort()}/switchyard` });
    assert.equal(loaded('pg'), true);
    assert.equal(loaded('@redis/client'), false);
    await t.set({ telemetryUrl: `redis://127.0.0.1:${await refusedPort()}` });
    assert.equal(loaded('@redis/client'), true);
  } finally {
    await t.close();
  }
});

test('of two URLs set at once the later one is served, and the earlier is never started', async () => {
  const lines: { message: string; server?: string }[] = [];
  const t = team(lines);
  const [first, second] = [await refusedPort(), await refusedPort()];
  try {
    await t.set({ ledgerUrl: `postgres://switchyard@127.0.0.1:${await refusedPort()}/switchyard` });
    // Both replace a running link, so each waits for it to close: the second call comes in meanwhile.
    await Promise.all([
      t.set({ ledgerUrl: `postgres://switchyard@127.0.0.1:${first}/switchyard` }),
      t.set({ ledgerUrl: `postgres://switchyard@127.0.0.1:${second}/switchyard` }),
    ]);
    assert.equal(t.status().ledger.server, `127.0.0.1:${second}`);
    const tried = () => new Set(lines.filter((l) => l.message === 'team ledger unreachable; retrying').map((l) => l.server));
    for (let waited = 0; !tried().has(`127.0.0.1:${second}`) && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    // A refused connection is reported at once: a link started for the first URL would have been by now.
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(tried().has(`127.0.0.1:${second}`), `the served link never tried its server: ${JSON.stringify(lines)}`);
    assert.ok(!tried().has(`127.0.0.1:${first}`), `a link for the superseded URL runs: ${JSON.stringify(lines)}`);
  } finally {
    await t.close();
  }
});

test('a ledger URL with a bare % in its password is refused as bad input, and the link in use stays', async () => {
  const t = team();
  const inUse = `postgres://switchyard@127.0.0.1:${await refusedPort()}/switchyard`;
  try {
    await t.set({ ledgerUrl: inUse });
    const server = t.status().ledger.server;
    await assert.rejects(t.set({ ledgerUrl: 'postgres://switchyard:100%sure@127.0.0.1:5432/switchyard' }), (error: Error) => {
      assert.ok(error instanceof TeamProblem, `${error.constructor.name}: ${error.message}`);
      assert.equal(error.message, 'ledgerUrl has a malformed %-escape in its password (write % as %25)');
      return true;
    });
    assert.equal(t.keepsLedger, true, 'the ledger in use was closed');
    assert.equal(t.status().ledger.server, server);
    // The same URL again is still the one in use: nothing was recorded of the refused one.
    await t.set({ ledgerUrl: inUse });
    assert.equal(t.keepsLedger, true);
  } finally {
    await t.close();
  }
});
