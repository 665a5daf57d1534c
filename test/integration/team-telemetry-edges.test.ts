// Team telemetry (daemon/team/sharedTelemetry.ts) through a Redis of this file's own, at its edges:
// sharing stopped and started again, and a Redis that refuses a write while its connection stays up.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'redis';
import type { Site } from '../../daemon/catalog/types';
import type { SiteObservation } from '../../daemon/engine/telemetry';
import { Redactor } from '../../daemon/log/redact';
import { Team } from '../../daemon/team';
import { SharedTelemetry } from '../../daemon/team/sharedTelemetry';
import { startRedis, type TestRedis } from '../support/redis.cjs';
import { waitFor } from '../support/daemon';

const CHANNEL = 'switchyard:telemetry:v2';
const RECENT_KEY = 'switchyard:telemetry:v2:recent';
const SITE = 'team/edge';
const real = (id: string) => ({ id, simulated: false }) as Site;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = { info() {}, warn() {} };

let redis: TestRedis;
let admin: ReturnType<typeof createClient>;

before(async () => {
  redis = await startRedis();
  admin = createClient({ url: redis.url });
  await admin.connect();
});

after(async () => {
  await admin.close();
  await redis.stop();
});

/** An attempt at the shared site, told apart by its duration. */
function observation(durationMs: number): SiteObservation {
  return { siteId: SITE, model: 'edge-chat', queued: false, prefillMs: 0, expectedTtftMs: 50, outcome: 'error', ttftMs: null, durationMs, outputTokens: 0, headroom: null, error: { status: 500, retryable: true } };
}

describe('team telemetry at its edges', () => {
  test('sharing stopped and started again learns neither this daemon\'s own batches nor a teammate\'s a second time', async () => {
    await admin.del(RECENT_KEY);
    const learned: number[] = [];
    const team = new Team({ site: real, observe: (o) => learned.push(o.durationMs), now: Date.now, async *receiptsSince() {}, log, redactor: new Redactor() });
    const up = () => waitFor(() => (team.status().telemetry === 'connected' ? true : undefined), 10_000, () => `never connected: ${JSON.stringify(team.status())}`);
    try {
      await team.set({ telemetryUrl: redis.url });
      await up();
      // Ours, and a teammate's, as a daemon sends them: on the channel and into the list.
      team.publish(observation(1));
      const theirs = JSON.stringify({ origin: 'teammate', at: Date.now(), observations: [observation(2)] });
      await admin.multi().publish(CHANNEL, theirs).lPush(RECENT_KEY, theirs).exec();
      await waitFor(async () => ((await admin.lLen(RECENT_KEY)) === 2 && learned.length === 1 ? true : undefined), 5000, () => `list ${RECENT_KEY}, learned ${JSON.stringify(learned)}`);
      assert.deepEqual(learned, [2]);

      // Stopped and started again: the list it replays holds both batches.
      await team.set({ telemetryUrl: null });
      await team.set({ telemetryUrl: redis.url });
      await up();
      await sleep(300);
      // A failure learned twice counts twice towards the site's breaker; its own batch, heard back,
      // would also count this daemon as its own teammate.
      assert.deepEqual(learned, [2], 'a batch was learned again');
      assert.equal(team.status().peers, 1);
    } finally {
      await team.close();
    }
  });

  test('a write Redis refuses while the connection stays up (out of memory) is reported, and sharing resumes once Redis takes writes again', async () => {
    await admin.del(RECENT_KEY);
    const shared = new SharedTelemetry(redis.url, { site: real, observe() {}, now: Date.now, changed() {}, log });
    shared.start();
    try {
      await waitFor(() => (shared.status().telemetry === 'connected' ? true : undefined), 10_000, () => 'never connected');
      await admin.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
      shared.publish(observation(1));
      const refused = await waitFor(() => (shared.status().telemetry === 'unreachable' ? shared.status() : undefined), 5000, () => JSON.stringify(shared.status()));
      assert.match(refused.error ?? '', /^OOM /);
      assert.equal(refused.published, 0, 'a batch Redis refused was counted as shared');

      await admin.configSet('maxmemory', '0');
      // The next observation goes out, and the link says so: nothing else would ever mend it, since
      // the connection never dropped.
      shared.publish(observation(2));
      await waitFor(() => (shared.status().telemetry === 'connected' ? true : undefined), 5000, () => `still ${JSON.stringify(shared.status())}`);
      assert.equal(shared.status().error, null);
      assert.equal(shared.status().published, 1);
      assert.equal(await admin.lLen(RECENT_KEY), 1);
    } finally {
      await admin.configSet('maxmemory', '0');
      await shared.close();
    }
  });
});
