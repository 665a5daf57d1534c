// The production anthropic adapter against the fake anthropic upstream: see test/fakes/adapter-suite.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAdapter } from '../../daemon/providers/registry';
import { adapterSuite } from '../fakes/adapter-suite';
import { send, testSite } from '../fakes/sites';
import { startFake, type FakeUpstream } from '../fakes/upstream';

adapterSuite('anthropic', 'anthropic-ratelimit-requests-remaining');

describe('anthropic usage: cache writes by lifetime', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('anthropic')));
  after(() => fake.stop());

  for (const stream of [true, false]) {
    test(`${stream ? 'streamed' : 'JSON'}: the 1-hour share of the cache writes is read from cache_creation`, async () => {
      fake.enqueue({ usage: { input: 40, cached: 500, cacheWrite: 3000, cacheWrite1h: 2000, output: 6 } });
      const site = testSite(fake, { endpoint: { stream, idleTimeoutMs: 1500 } });
      const r = await send(createAdapter(site), site, { apiKey: 'sk-ant-test-0123456789abcdef' });
      assert.equal(r.outcome, 'complete');
      assert.deepEqual({ ...r.usage, raw: undefined }, { input: 40, cachedInput: 500, cacheWrite: 3000, cacheWrite1h: 2000, output: 6, reasoning: 0, raw: undefined });
    });
  }
});
