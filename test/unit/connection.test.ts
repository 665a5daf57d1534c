import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { closeIsDrop, connectingView } from '../../extension/connectionParts';
import { DaemonStartFailed, startDaemon } from '../../extension/daemonProcess';

const client = { name: 'first' };
const connected = { generation: 1, client, connected: true, disposed: false };

describe('the supervisor on a socket\'s close', () => {
  it('reconnects (or restarts the daemon) when an established connection drops', () => {
    assert.equal(closeIsDrop({ generation: 1, client }, connected), true);
  });

  it('leaves a failed handshake\'s close to its run loop, which retries: a second loop would connect a second client', () => {
    // The old daemon, killed for a protocol mismatch, closes its socket while the attempt is still connecting.
    assert.equal(closeIsDrop({ generation: 1, client }, { ...connected, connected: false }), false);
    // Or after the attempt let go of it, and the loop's next attempt made another client.
    assert.equal(closeIsDrop({ generation: 1, client }, { ...connected, connected: false, client: undefined }), false);
    assert.equal(closeIsDrop({ generation: 1, client }, { ...connected, client: { name: 'second' } }), false);
  });

  it('ignores a close after restart() or dispose() let the connection go', () => {
    assert.equal(closeIsDrop({ generation: 1, client }, { ...connected, generation: 2 }), false);
    assert.equal(closeIsDrop({ generation: 1, client }, { ...connected, disposed: true }), false);
  });
});

describe('the status bar while not connected', () => {
  it('says "restarting" from the moment Restart Daemon is run until the new daemon\'s handshake, never "connected" or "disconnected"', () => {
    for (const attempt of [0, 2]) {
      const view = connectingView({ attempt, restarting: true }, true);
      assert.match(view.text, /Switchyard: restarting/);
      assert.match(view.label, /^Switchyard: restarting the daemon/);
      assert.doesNotMatch(view.label, /Switchyard: (dis)?connected/);
      assert.equal(view.warning, false, 'asked for, not a fault');
    }
    assert.match(connectingView({ attempt: 2, restarting: true }, true).tooltip, /attempt 3/);
  });

  it('says "connecting" at start-up and "disconnected", in the warning colour, after a drop', () => {
    assert.deepEqual(
      [connectingView({ attempt: 0 }, false), connectingView({ attempt: 0 }, true), connectingView({ attempt: 1 }, false)].map((v) => [v.label, v.warning]),
      [['Switchyard: connecting', false], ['Switchyard: disconnected, reconnecting', true], ['Switchyard: disconnected, reconnecting', true]],
    );
  });
});

describe('starting the daemon when another start holds the state dir', () => {
  const made: string[] = [];
  after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  function stateDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-start-'));
    made.push(dir);
    return dir;
  }
  /** A daemon that loses the race for the lock: it exits at once with 3, as daemon/main.ts does. */
  function loser(dir: string): string {
    const script = path.join(dir, 'loser.js');
    fs.writeFileSync(script, 'process.exit(3);\n');
    return script;
  }

  it('waits for the winner without holding up the editor, and attaches to it once it answers', async () => {
    const dir = stateDir();
    // The winner holds the lock from the start and answers /healthz only once it is listening.
    fs.writeFileSync(path.join(dir, 'daemon.lock'), String(process.pid));
    const winner = http.createServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((resolve) => winner.listen(0, '127.0.0.1', resolve));
    after(() => winner.close());
    const state = { port: (winner.address() as AddressInfo).port, pid: process.pid, token: 'winner', version: 'test' };
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    setTimeout(() => fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify(state)), 600);
    try {
      const started = await startDaemon({ daemonScript: loser(dir), stateDir: dir, idleTimeoutSeconds: 60, timeoutMs: 4000 });
      assert.deepEqual(started, state);
      assert.ok(ticks >= 10, `the editor's other timers ran meanwhile (${ticks} ticks of 20 ms)`);
    } finally {
      clearInterval(ticker);
    }
  });

  it('stops waiting once the lock\'s holder is gone without answering, so the supervisor starts one again; that is not a crash', async () => {
    const dir = stateDir();
    const began = Date.now();
    const error = await startDaemon({ daemonScript: loser(dir), stateDir: dir, idleTimeoutSeconds: 60, timeoutMs: 5000 }).then(() => undefined, (e: Error) => e);
    assert.ok(error, 'no daemon to attach to');
    assert.ok(Date.now() - began < 2000, `gave up after ${Date.now() - began} ms, not at the time limit`);
    assert.equal(error instanceof DaemonStartFailed, false);
  });

  it('a daemon that exits before it is ready is a failed start, told by its first lines without the stack', async () => {
    const dir = stateDir();
    const script = path.join(dir, 'crash.js');
    fs.writeFileSync(script, 'process.stderr.write("switchyard: failed to start: Error: listen EADDRINUSE: address already in use 127.0.0.1:4000\\n    at Server.setupListenHandle (node:net:1908:16)\\n    at doListen (node:net:2139:7)\\n"); process.exit(1);\n');
    const error = await startDaemon({ daemonScript: script, stateDir: dir, idleTimeoutSeconds: 60, timeoutMs: 5000 }).then(() => undefined, (e: Error) => e);
    assert.ok(error instanceof DaemonStartFailed);
    assert.equal(error.message, 'the daemon exited with code 1 before it was ready: switchyard: failed to start: Error: listen EADDRINUSE: address already in use 127.0.0.1:4000');
  });
});
