import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeIsDrop, connectingView } from '../../extension/connectionParts';

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
