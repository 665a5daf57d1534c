import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeIsDrop } from '../../extension/connectionParts';

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
