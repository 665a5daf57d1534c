// The production openai adapter against the fake openai upstream: see test/fakes/adapter-suite.ts.
// Below it, what only this client decides: it reads the socket itself, so it decodes content codings itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAdapter } from '../../daemon/providers/registry';
import { adapterSuite } from '../fakes/adapter-suite';
import { send, testSite } from '../fakes/sites';
import { startFake, type FakeUpstream } from '../fakes/upstream';

adapterSuite('openai', 'x-ratelimit-remaining-requests');

describe('openai adapter: content codings it cannot read', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('openai')));
  after(() => fake.stop());

  for (const stream of [true, false]) {
    test(`${stream ? 'streamed' : 'JSON'}: a coding it does not know is a retryable error that names it`, async () => {
      fake.enqueue({ encoding: 'zstd' });
      const s = testSite(fake, { endpoint: { stream } });
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'error');
      assert.equal(r.error?.retryable, true);
      assert.match(r.error!.message, /content coding .*zstd/);
      assert.equal(r.text, '');
    });

    test(`${stream ? 'streamed' : 'JSON'}: a body that is not in the coding its header names is a retryable error`, async () => {
      fake.enqueue({ headers: { 'content-encoding': 'gzip' } });
      const s = testSite(fake, { endpoint: { stream } });
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'error');
      assert.equal(r.error?.retryable, true);
      assert.match(r.error!.message, /could not be decoded \(gzip\)/);
    });
  }
});
