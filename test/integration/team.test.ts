// Team telemetry through a real Redis: daemons started with the same Redis learn from each other's
// attempts at real sites (fake upstreams on 127.0.0.1), a daemon that joins later replays the last
// minutes, simulated sites stay each daemon's own, and the Redis password stays out of logs and status.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'redis';
import { ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import * as proto from '../../daemon/protocol';
import { connect, startDaemon, tempDir, waitFor, type RunningDaemon } from '../support/daemon';
import { startRedis, type TestRedis } from '../support/redis.cjs';
import { Relay } from '../support/relay';
import type { Site } from '../../daemon/catalog/types';
import { SharedTelemetry } from '../../daemon/team/sharedTelemetry';
import { startFake, type FakeUpstream } from '../fakes/upstream';

const MODEL = 'team-chat';
const FLAKY = 'team/flaky';
const STEADY = 'team/steady';
const PRICE = { inputPer1M: 1, outputPer1M: 2, readOn: '2026-12-01' };
const PASSWORD = 'team-redis-password-9f8e7d';
const KEY = { GROQ_API_KEY: 'gsk_teamtestkey0123456789abcdefgh' };

let redis: TestRedis;
let flaky: FakeUpstream;
let steady: FakeUpstream;
let catalogFile: string;
const daemons: RunningDaemon[] = [];
const closers: (() => void)[] = [];

function site(id: string, fake: FakeUpstream) {
  return {
    id, provider: 'groq', region: 'local', location: '127.0.0.1 (fake upstream)', hardware: 'fake',
    endpoint: { kind: 'openai-compatible', baseUrl: fake.baseUrl },
    models: [{ canonical: MODEL, providerModel: 'llama-fake', contextWindow: 100_000, price: PRICE, ttftMs: 50, outputTokensPerSecond: 100 }],
  };
}

before(async () => {
  [redis, flaky, steady] = await Promise.all([startRedis({ password: PASSWORD }), startFake('openai'), startFake('openai')]);
  catalogFile = path.join(tempDir('switchyard-team-catalog-'), 'catalog.json');
  fs.writeFileSync(catalogFile, JSON.stringify({ sites: [site(FLAKY, flaky), site(STEADY, steady)] }, null, 2));
});

after(async () => {
  closers.forEach((close) => close());
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all([flaky.stop(), steady.stop()]);
  await redis.stop();
});

/** A daemon on the shared catalog; `team` sets its Redis from the environment, as a standalone daemon's. */
async function daemon(team: string | null = redis.url): Promise<{ d: RunningDaemon; rpc: MessageConnection }> {
  const d = await startDaemon({ args: ['--catalog', catalogFile, '--sim-speed', '50'], env: { ...KEY, ...(team ? { SWITCHYARD_TEAM_REDIS_URL: team } : {}) } });
  daemons.push(d);
  const c = await connect(d);
  closers.push(c.close);
  await c.rpc.sendRequest(proto.configure, { policies: [{ name: 'flaky-first', kind: 'first-fit', order: [FLAKY, STEADY] }] });
  return { d, rpc: c.rpc };
}

const team = async (rpc: MessageConnection) => (await rpc.sendRequest(proto.status)).team;

function connected(rpc: MessageConnection): Promise<proto.TeamStatus> {
  return waitFor(async () => {
    const t = await team(rpc);
    return t.telemetry === 'connected' ? t : undefined;
  }, 10_000, () => 'team telemetry did not connect');
}

async function telemetryOf(rpc: MessageConnection, siteId: string): Promise<proto.TelemetrySnapshot> {
  const sites = await rpc.sendRequest(proto.sites);
  return sites.find((s) => s.site.id === siteId)!.telemetry;
}

/** Starts a chat and waits for its receipt. */
async function chat(rpc: MessageConnection, params: Partial<proto.ChatParams> = {}): Promise<{ started: proto.ChatStarted; receipt: proto.Receipt }> {
  let requestId: string | undefined;
  const early: proto.ChatReceiptParams[] = [];
  let resolve!: (r: proto.Receipt) => void;
  const receipt = new Promise<proto.Receipt>((r) => (resolve = r));
  const sub = rpc.onNotification(proto.receipt, (r: proto.ChatReceiptParams) => {
    if (requestId === undefined) early.push(r);
    else if (r.requestId === requestId) resolve(r.receipt);
  });
  const started = await rpc.sendRequest(proto.chat, { model: MODEL, messages: [{ role: 'user', content: 'Hello, team.' }], maxTokens: 32, policy: 'flaky-first', ...params });
  requestId = started.requestId;
  const already = early.find((r) => r.requestId === requestId);
  if (already) resolve(already.receipt);
  const r = await receipt;
  sub.dispose();
  return { started, receipt: r };
}

describe('team telemetry through Redis', () => {
  test('a site that keeps failing for one daemon is passed over by another that never tried it', async () => {
    const a = await daemon();
    const b = await daemon();
    await Promise.all([connected(a.rpc), connected(b.rpc)]);

    // Five 500s open the breaker at A; each request fails over to the steady site.
    for (let i = 0; i < 5; i++) flaky.enqueue({ fault: { kind: 'status', status: 500, message: 'overloaded' } });
    for (let i = 0; i < 5; i++) assert.equal((await chat(a.rpc)).receipt.site.id, STEADY);
    assert.equal((await telemetryOf(a.rpc, FLAKY)).breaker, 'open');

    const seen = await waitFor(async () => {
      const t = await telemetryOf(b.rpc, FLAKY);
      return t.breaker === 'open' ? t : undefined;
    }, 5000, () => 'B never learned that the flaky site failed');
    assert.ok(seen.errorRate > 0.5, `error rate ${seen.errorRate}`);
    // A's successes at the steady site taught B its speed too.
    const steadyAtB = await waitFor(async () => {
      const t = await telemetryOf(b.rpc, STEADY);
      return t.samples >= 5 ? t : undefined;
    }, 5000, () => 'B never learned the steady site');
    assert.notEqual(steadyAtB.ttftMs, null);

    const before = flaky.requests.length;
    const { started } = await chat(b.rpc);
    assert.equal(started.placement.chosen, STEADY);
    assert.equal(started.placement.candidates.find((c) => c.site.id === FLAKY)?.rejected?.reason, 'breaker');
    assert.equal(flaky.requests.length, before, 'B sent nothing to the flaky site');

    const status = await team(b.rpc);
    assert.equal(status.peers, 1);
    const metrics = await (await fetch(`${b.d.url}/metrics`, { headers: { authorization: `Bearer ${b.d.state.token}` } })).text();
    assert.match(metrics, /^switchyard_team_link\{state="connected"\} 1$/m);
    assert.match(metrics, /^switchyard_team_peers 1$/m);
    assert.match(metrics, /^switchyard_team_observations\{direction="received"\} [1-9]\d*$/m);
    assert.ok(status.received >= 10, `received ${status.received}`);
    assert.ok((await team(a.rpc)).published >= 10);
    // A window reconnecting sends the same URL again: the link it has stays, counts and all.
    const again = await b.rpc.sendRequest(proto.setTeam, { telemetryUrl: redis.url });
    assert.equal(again.telemetry, 'connected');
    assert.equal(again.received, status.received);
  });

  test('a daemon that joins later starts from what the team saw in the last minutes', async () => {
    const c = await daemon();
    await connected(c.rpc);
    const t = await waitFor(async () => {
      const s = await telemetryOf(c.rpc, STEADY);
      return s.samples > 0 ? s : undefined;
    }, 5000, () => 'the late daemon replayed nothing');
    assert.notEqual(t.ttftMs, null);
    assert.equal((await telemetryOf(c.rpc, FLAKY)).breaker, 'open');
  });

  test('a daemon that joins while a teammate sends learns each batch once, in the order sent', async () => {
    const SITE = 'team/join-race';
    // Slow enough that batches are sent between the joiner's subscribing and its reading the list.
    const relay = await Relay.on(redis.port, { delayMs: 100 });
    await relay.start();
    const teammate = createClient({ url: redis.url });
    await teammate.connect();
    const learned: number[] = [];
    const joiner = new SharedTelemetry(relay.through(redis.url), {
      site: (id) => (id === SITE ? ({ id, simulated: false } as Site) : undefined),
      observe: (o) => learned.push(o.durationMs),
      now: Date.now,
      changed() {},
      log: { info() {}, warn() {} },
    });
    let sent = 0;
    let sending = true;
    // As a daemon sends: on the channel and into the list, in one transaction. Each batch numbered by its durationMs.
    const sender = (async () => {
      while (sending) {
        const message = JSON.stringify({ origin: 'teammate', at: Date.now(), observations: [{ siteId: SITE, model: MODEL, queued: false, prefillMs: 0, expectedTtftMs: 50, outcome: 'complete', ttftMs: 80, durationMs: sent++, outputTokens: 10, headroom: null }] });
        await teammate.multi().publish('switchyard:telemetry:v2', message).lPush('switchyard:telemetry:v2:recent', message).exec();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      joiner.start();
      await waitFor(() => (joiner.status().telemetry === 'connected' ? true : undefined), 10_000, () => 'the joiner never connected');
      await new Promise((resolve) => setTimeout(resolve, 300));
      sending = false;
      await sender;
      await waitFor(() => (learned.length >= sent ? true : undefined), 5000, () => `learned ${learned.length} of ${sent}`);
      assert.deepEqual(learned, [...Array(sent).keys()]);
    } finally {
      sending = false;
      await joiner.close();
      await teammate.close();
      await relay.stop();
    }
  });

  test('simulated sites stay each daemon\'s own', async () => {
    const a = await daemon();
    const b = await daemon();
    await Promise.all([connected(a.rpc), connected(b.rpc)]);
    const { receipt } = await chat(a.rpc, { model: 'llama-3.3-70b', policy: 'cheapest' });
    assert.equal(receipt.site.simulated, true);
    const simulated = receipt.site.id;
    assert.ok((await telemetryOf(a.rpc, simulated)).samples > 0);
    // Something real from A after it, so that B has provably heard A by the time it is asked.
    await chat(a.rpc);
    await waitFor(async () => ((await team(b.rpc)).received > 0 ? true : undefined), 5000, () => 'B heard nothing from A');
    assert.equal((await telemetryOf(b.rpc, simulated)).samples, 0);
  });

  test('the Redis password stays out of the status and the log; a bad URL is refused and changes nothing; null stops sharing', async () => {
    const { d, rpc } = await daemon(null);
    assert.equal((await team(rpc)).telemetry, 'off');
    const pushed: proto.TeamStatus[] = [];
    rpc.onNotification(proto.teamChanged, (t: proto.TeamStatus) => {
      pushed.push(t);
    });
    const set = await rpc.sendRequest(proto.setTeam, { telemetryUrl: redis.url });
    assert.equal(set.server, `127.0.0.1:${redis.port}`);
    const status = await connected(rpc);
    assert.ok(!JSON.stringify(status).includes(PASSWORD));
    // The editor is told when the link comes up, without asking.
    await waitFor(() => (pushed.some((t) => t.telemetry === 'connected') ? true : undefined), 5000, () => `pushed: ${JSON.stringify(pushed)}`);

    await assert.rejects(rpc.sendRequest(proto.setTeam, { telemetryUrl: 'http://127.0.0.1:6379' }), (error: ResponseError<unknown>) => {
      assert.equal(error.code, -32602);
      assert.match(error.message, /^telemetryUrl must be a redis:\/\/ or rediss:\/\/ URL, not http:\/\/$/);
      return true;
    });
    await assert.rejects(rpc.sendRequest(proto.setTeam, { telemetryUrl: 42 as unknown as string }), /telemetryUrl must be a string or null$/);
    assert.equal((await team(rpc)).telemetry, 'connected');

    assert.equal((await rpc.sendRequest(proto.setTeam, { telemetryUrl: null })).telemetry, 'off');
    await d.stop();
    assert.ok(!fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8').includes(PASSWORD), 'the password is in the log');
  });

  test('an unreachable Redis is reported, retried, and does not hold requests up', async () => {
    const { rpc } = await daemon(null);
    const closed = await startRedis();
    await closed.stop();
    await rpc.sendRequest(proto.setTeam, { telemetryUrl: closed.url });
    const down = await waitFor(async () => {
      const t = await team(rpc);
      return t.telemetry === 'unreachable' ? t : undefined;
    }, 10_000, () => 'never reported unreachable');
    assert.match(down.error ?? '', /ECONNREFUSED|connect/i);
    assert.equal((await chat(rpc)).receipt.outcome, 'complete');
  });

  /** A daemon on the team's Redis, the count of messages it has taken, and a raw client publishing on the team's channel. */
  async function withRawPublisher() {
    const { d, rpc } = await daemon();
    await connected(rpc);
    const received = (await team(rpc)).received;
    const other = createClient({ url: redis.url });
    await other.connect();
    return { d, rpc, received, other };
  }

  test('messages on the channel that are not a daemon\'s observation are ignored and said once', async () => {
    const { d, rpc, received, other } = await withRawPublisher();
    const observation = { siteId: STEADY, model: MODEL, queued: false, prefillMs: 0, expectedTtftMs: 50, outcome: 'error', ttftMs: null, durationMs: 5, outputTokens: 0, headroom: null };
    const bad = ['not json', JSON.stringify({ origin: 'x', at: Date.now() }), JSON.stringify({ origin: 'x', at: Date.now(), observations: [{ ...observation, outcome: 'exploded' }] }), JSON.stringify({ origin: 'x', at: Date.now(), observations: [] })];
    for (const message of bad) await other.publish('switchyard:telemetry:v2', message);
    // A well-formed one after them proves the bad ones were read (the channel is in order) and the link survived.
    await other.publish('switchyard:telemetry:v2', JSON.stringify({ origin: 'x', at: Date.now(), observations: [observation] }));
    await other.close();
    await waitFor(async () => ((await team(rpc)).received === received + 1 ? true : undefined), 5000, () => 'the good message was not taken');
    assert.equal((await team(rpc)).telemetry, 'connected');
    const log = await waitFor(() => {
      const text = fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8');
      return text.includes('not understood') ? text : undefined;
    }, 5000, () => 'the refusal was not logged');
    assert.equal(log.split('not understood').length - 1, 1);
  });

  test('a teammate\'s absurd figures are refused or skipped: the site\'s speed stays a number and no queue depth is pinned', async () => {
    const { d, rpc, received, other } = await withRawPublisher();
    const ordinary = { siteId: STEADY, model: MODEL, queued: false, prefillMs: 0, expectedTtftMs: 50, outcome: 'complete', ttftMs: 100, durationMs: 1100, outputTokens: 100, headroom: null };
    const send = (observation: object) => other.publish('switchyard:telemetry:v2', JSON.stringify({ origin: 'mallory', at: Date.now(), observations: [observation] }));
    // Out of any attempt's range: refused whole.
    await send({ ...ordinary, ttftMs: 0, durationMs: 1e-300, outputTokens: 9e15, queueDepth: 1e12 });
    // In range each, but dividing to an infinite speed: taken, and its speed skipped.
    await send({ ...ordinary, ttftMs: 0, durationMs: 1e-300, outputTokens: 10_000_000 });
    await send(ordinary);
    await other.close();
    await waitFor(async () => ((await team(rpc)).received >= received + 2 ? true : undefined), 5000, () => 'the messages were not taken');
    // The channel is in order: the last message is in once the count is; a third would have come with it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await team(rpc)).received, received + 2);
    const t = await telemetryOf(rpc, STEADY);
    assert.equal(t.queueDepth, null);
    // JSON carries NaN and Infinity as null.
    assert.equal(typeof t.outputTokensPerSecond, 'number', `speed ${t.outputTokensPerSecond}`);
    assert.ok(t.outputTokensPerSecond! > 0, `speed ${t.outputTokensPerSecond}`);
    await waitFor(() => (fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8').includes('not understood') ? true : undefined), 5000, () => 'the refusal was not logged');
  });
});
