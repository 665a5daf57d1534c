import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as proto from '../../daemon/protocol';
import { Keys } from '../../extension/secrets';

/** The editor's SecretStorage, in memory. */
function secretStorage() {
  const values = new Map<string, string>();
  return {
    values,
    get: async (key: string) => values.get(key),
    store: async (key: string, value: string) => void values.set(key, value),
    delete: async (key: string) => void values.delete(key),
  };
}

/** A daemon's connection as Keys uses it: what it was sent, and the keys it holds as a result. */
function daemon() {
  const held = new Map<string, string>();
  const sent: unknown[] = [];
  const client = {
    sendRequest: async (type: { method: string }, params: proto.SetCredentialsParams) => {
      sent.push(params);
      if (type.method === proto.setCredentials.method) {
        if (params.apiKey === null) held.delete(params.provider);
        else held.set(params.provider, params.apiKey);
      }
      return {};
    },
  };
  return { held, sent, client: client as never };
}

const log = { info: () => {}, warn: () => {} } as never;

describe('API keys in the editor', () => {
  it('a key removed while this window is not connected is removed from the daemon, which other windows share, at the next connect', async () => {
    const secrets = secretStorage();
    const keys = new Keys(secrets as never, log);
    const running = daemon();
    await keys.set('openai', 'sk-test-0123456789abcdef', running.client);
    assert.equal(running.held.get('openai'), 'sk-test-0123456789abcdef');
    // The connection dropped (a reconnect is under way) when the user removes the key.
    await keys.remove('openai', undefined);
    assert.equal(secrets.values.size, 0);
    // The same daemon, still running for the other windows, and this window connects to it again.
    await keys.sendAll(running.client);
    assert.equal(running.held.has('openai'), false, 'the removed key is no longer used for anyone\'s requests');
    // Told once: a later connect does not take away a key set again since (from the environment, say).
    running.sent.length = 0;
    await keys.sendAll(running.client);
    assert.deepEqual(running.sent, []);
  });
});
