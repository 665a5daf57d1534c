// The chat service over simulated sites, in process: what a request bills, shows and leaves behind
// (router in-flight counts, reservations, queue places) when it is stopped, cancelled or fails over.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { indexCatalog } from '../../daemon/catalog/lookup';
import type { Site } from '../../daemon/catalog/types';
import { ChatService } from '../../daemon/chat/service';
import { PolicyBook } from '../../daemon/engine/policyBook';
import { Router } from '../../daemon/engine/router';
import { Telemetry } from '../../daemon/engine/telemetry';
import { Meter } from '../../daemon/meter';
import type { Receipt } from '../../daemon/protocol';
import { Credentials } from '../../daemon/providers/keys';
import { AdapterPool } from '../../daemon/providers/pool';
import type { SimulatedAdapter } from '../../daemon/providers/simulated/adapter';
import { RealClock } from '../../daemon/providers/simulated/clock';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import { simSite } from './engine-fixtures';

const SPEC = { servers: 1, ttftBaseMs: 100, ttftPerInputTokenMs: 0, jitter: 0, outputTokensPerSecond: 100, errorRate: 0 };

function site(id: string, over: Partial<NonNullable<Site['simulation']>> = {}, inputPer1M = 1): Site {
  return simSite(id, { provider: 'groq', location: 'Helsinki, Finland (Groq with Equinix)', concurrency: over.servers ?? 1, simulation: { ...SPEC, ...over } }, {
    price: { inputPer1M, outputPer1M: 2 * inputPer1M, readOn: '2026-01-01' }, ttftMs: over.ttftBaseMs ?? SPEC.ttftBaseMs,
  });
}

type TeamPart = ConstructorParameters<typeof ChatService>[0]['team'];

async function withChat(sites: Site[], speed: number, fn: (h: Awaited<ReturnType<typeof harness>>) => Promise<void>, extra: { team?: TeamPart; env?: Record<string, string> } = {}): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chat-service-'));
  const h = await harness(sites, speed, dir, extra);
  try {
    await fn(h);
  } finally {
    await h.meter.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function harness(sites: Site[], speed: number, dir: string, extra: { team?: TeamPart; env?: Record<string, string> } = {}) {
  const clock = new RealClock(speed);
  const index = indexCatalog({ sites, files: [] });
  const telemetry = new Telemetry();
  const router = new Router({ index }, telemetry, clock, mulberry32(1));
  const meter = await Meter.open(dir);
  const adapters = new AdapterPool(clock, 7, () => {
    throw new Error('no real sites here');
  });
  const quiet = () => {};
  const log = { debug: quiet, info: quiet, warn: quiet, error: quiet, subscribe: () => quiet, flush: quiet };
  const team = extra.team ?? { keepsLedger: false, remainingNanoUsd: () => undefined, hold: async () => null, resize: async () => {}, record: async () => {}, release: async () => {} };
  const chat = new ChatService({
    catalog: { index } as never, router, meter, policies: new PolicyBook(), credentials: Credentials.fromEnv(extra.env ?? {}), adapters, clock, log, team,
  });
  const receipts: Receipt[] = [];
  function ask(params: Record<string, unknown>, onMove?: () => void) {
    let text = '';
    const moves: string[] = [];
    let done!: (r: Receipt) => void;
    const receipt = new Promise<Receipt>((resolve) => (done = resolve));
    const started = chat.start({ model: 'm', messages: [{ role: 'user', content: 'hello' }], maxTokens: 20, ...params }, 'editor', () => ({
      delta: (piece) => void (text += piece),
      attempt: ({ attempt, next }) => {
        moves.push(`${attempt.siteId} -> ${next?.id}`);
        onMove?.();
      },
      receipt: (r) => {
        receipts.push(r);
        done(r);
      },
    }));
    return { started, receipt, text: () => text, moves };
  }
  const inFlight = () => sites.map((s) => telemetry.snapshot(s.id, clock.now()).inFlight);
  const reserved = () => meter.summary().reservedNanoUsd;
  const queueOf = (s: Site) => (adapters.get(s) as SimulatedAdapter).queue;
  return { chat, meter, ask, receipts, inFlight, reserved, queueOf };
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
};

test('a stop string that the simulated label happens to contain does not end the answer inside the label', async () => {
  await withChat([site('sim:groq/eu-helsinki/lpu')], 1000, async (h) => {
    const r = h.ask({ stop: [')'] });
    await r.started;
    const receipt = await r.receipt;
    assert.match(r.text(), /^\[simulated m at groq · Helsinki, Finland \(Groq with Equinix\)\] lorem ipsum /);
    assert.deepEqual([receipt.outcome, receipt.tokens.output, receipt.tokens.estimated], ['length', 20, false]);
    // A stop string in the answer itself still ends it there.
    const stopped = h.ask({ stop: ['magna'] });
    await stopped.started;
    const at = await stopped.receipt;
    assert.match(stopped.text(), /\] lorem .* dolore $/);
    assert.deepEqual([at.outcome, at.tokens.output], ['complete', 17]);
    assert.deepEqual([h.inFlight(), h.reserved()], [[0], 0]);
  });
});

test('a request cancelled while it waits in a simulated site\'s queue is billed nothing and leaves its place at once', async () => {
  const s = site('sim:groq/eu-helsinki/lpu', { ttftBaseMs: 60_000 });
  await withChat([s], 1, async (h) => {
    const first = h.ask({});
    const busy = await first.started;
    const second = h.ask({ messages: [{ role: 'user', content: 'a longer question that waits for the only server' }] });
    const queued = await second.started;
    await until(() => h.queueOf(s).depth === 1);
    assert.deepEqual(h.inFlight(), [2]);
    const heldBoth = h.reserved();
    h.chat.cancel(queued.requestId);
    const receipt = await second.receipt;
    assert.equal(h.queueOf(s).depth, 0);
    assert.equal(receipt.outcome, 'cancelled');
    assert.deepEqual([receipt.cost.totalNanoUsd, receipt.tokens.input, receipt.tokens.output, receipt.tokens.estimated], [0, 0, 0, false]);
    assert.deepEqual(h.inFlight(), [1]);
    assert.ok(h.reserved() < heldBoth && h.reserved() > 0, 'only the running request is still held');
    h.chat.cancel(busy.requestId);
    await first.receipt;
    assert.deepEqual([h.inFlight(), h.reserved(), h.queueOf(s).inService, h.receipts.length], [[0], 0, 0, 2]);
  });
});

test('a cancel during the failover backoff sends nothing more: the receipt names the site the request reached, and nothing stays held', async () => {
  // Cheapest first: the site that fails is tried before the one that would answer.
  const failing = site('sim:a/eu-helsinki/lpu', { servers: 4, ttftBaseMs: 10, errorRate: 1 });
  const healthy = site('sim:b/eu-helsinki/lpu', { servers: 4, ttftBaseMs: 10 }, 2);
  await withChat([failing, healthy], 1, async (h) => {
    let requestId = '';
    // Told of the move just before the backoff's pause: the cancel lands in it.
    const r = h.ask({ policy: 'cheapest' }, () => h.chat.cancel(requestId));
    requestId = (await r.started).requestId;
    const receipt = await r.receipt;
    assert.deepEqual(r.moves, ['sim:a/eu-helsinki/lpu -> sim:b/eu-helsinki/lpu']);
    assert.equal(receipt.outcome, 'cancelled');
    assert.deepEqual(receipt.attempts.map((a) => [a.siteId, a.outcome]), [['sim:a/eu-helsinki/lpu', 'error']]);
    assert.equal(receipt.site.id, 'sim:a/eu-helsinki/lpu');
    assert.equal(r.text(), '');
    assert.equal(h.queueOf(healthy).inService, 0);
    assert.deepEqual([h.inFlight(), h.reserved(), h.receipts.length], [[0, 0], 0, 1]);
  });
});

test('errors before the first token fail over in order, at most MAX_ATTEMPTS times; the error names the last site', async () => {
  const sites = ['a', 'b', 'c', 'd', 'e'].map((p, i) => site(`sim:${p}/eu-helsinki/lpu`, { servers: 4, ttftBaseMs: 10, errorRate: 1 }, 1 + i));
  await withChat(sites, 10, async (h) => {
    const r = h.ask({ policy: 'cheapest' });
    await r.started;
    const receipt = await r.receipt;
    const tried = ['a', 'b', 'c', 'd'].map((p) => `sim:${p}/eu-helsinki/lpu`);
    assert.deepEqual(receipt.attempts.map((a) => a.siteId), tried);
    assert.deepEqual(r.moves, tried.slice(0, 3).map((s, i) => `${s} -> ${tried[i + 1]}`));
    assert.equal(receipt.outcome, 'error');
    assert.equal(receipt.site.id, tried[3]);
    assert.equal(receipt.error, `${tried[3]}: simulated server error at ${tried[3]}`);
    assert.deepEqual([receipt.cost.totalNanoUsd, receipt.ttftMs], [0, null]);
    assert.deepEqual([h.inFlight(), h.reserved()], [[0, 0, 0, 0, 0], 0]);
  });
});

test('a failover is held to the budget: a dearer next site that the cap cannot cover is never tried', async () => {
  const failing = site('sim:a/eu-helsinki/lpu', { servers: 4, ttftBaseMs: 10, errorRate: 1 });
  const dear = site('sim:b/eu-helsinki/lpu', { servers: 4, ttftBaseMs: 10 }, 1000);
  await withChat([failing, dear], 10, async (h) => {
    // Room for the cheap site's worst case (about $0.00005), not for the dear one's ($0.05).
    h.meter.setBudgets([{ scope: 'day', capUsd: 0.001, softRatio: 0.8 }]);
    const r = h.ask({ policy: 'cheapest' });
    await r.started;
    const receipt = await r.receipt;
    // With no other site it can afford, the failed one is tried again (the engine's last resort).
    assert.deepEqual(receipt.attempts.map((a) => a.siteId), Array(4).fill('sim:a/eu-helsinki/lpu'));
    assert.ok(!r.moves.some((m) => m.includes('sim:b/')), r.moves.join(', '));
    assert.equal(receipt.outcome, 'error');
    assert.deepEqual([h.inFlight(), h.reserved()], [[0, 0], 0]);
  });
});

test('a failover goes to a site the budget can cover, not to a dearer one it would then have to give up on', async () => {
  // Fastest first: the failing site, then the dear one the cap cannot cover, then a slow cheap one.
  const failing = site('sim:a/eu-helsinki/lpu', { servers: 4, ttftBaseMs: 10, errorRate: 1 });
  const dear = site('sim:b/eu-helsinki/lpu', { servers: 4, ttftBaseMs: 20 }, 1000);
  const slow = site('sim:c/eu-helsinki/lpu', { servers: 4, ttftBaseMs: 200 });
  await withChat([failing, dear, slow], 10, async (h) => {
    h.meter.setBudgets([{ scope: 'day', capUsd: 0.001, softRatio: 0.8 }]);
    const r = h.ask({ policy: 'fastest' });
    await r.started;
    const receipt = await r.receipt;
    assert.deepEqual(receipt.attempts.map((a) => [a.siteId, a.outcome]), [['sim:a/eu-helsinki/lpu', 'error'], ['sim:c/eu-helsinki/lpu', 'length']]);
    assert.deepEqual([h.inFlight(), h.reserved()], [[0, 0, 0], 0]);
  });
});

test('a client whose sink throws as the answer completes loses its answer, not the bill, and the daemon keeps running', async () => {
  await withChat([site('sim:groq/eu-helsinki/lpu')], 1000, async (h) => {
    let recorded!: (r: Receipt) => void;
    const receipt = new Promise<Receipt>((resolve) => (recorded = resolve));
    h.meter.onChange((r) => recorded(r));
    const started = h.chat.start({ model: 'm', messages: [{ role: 'user', content: 'hello' }], maxTokens: 5 }, 'openai-api', () => ({
      delta: () => {},
      attempt: () => {},
      complete: () => {
        throw new TypeError('Invalid character in header content');
      },
      receipt: () => {
        throw new Error('the socket is gone');
      },
    }));
    await started;
    const r = await receipt;
    assert.equal(r.outcome, 'length');
    await until(() => h.reserved() === 0);
    assert.deepEqual(h.inFlight(), [0]);
  });
});

test('a team cap a teammate has just removed does not refuse the request placement read it under', async () => {
  // The daemon last heard of a team cap with nothing left under it; the ledger, asked, has no cap any more.
  let capped = true;
  const team: TeamPart = {
    keepsLedger: true,
    remainingNanoUsd: () => (capped ? 0 : undefined),
    hold: async () => {
      capped = false;
      return null;
    },
    resize: async () => {}, record: async () => {}, release: async () => {},
  };
  const real = simSite('groq/eu-helsinki/lpu', { provider: 'groq', simulated: false, endpoint: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' } });
  await withChat([real], 1000, async (h) => {
    const started = await h.ask({}).started;
    assert.equal(started.placement.chosen, 'groq/eu-helsinki/lpu');
  }, { team, env: { GROQ_API_KEY: 'gsk_' + 'a'.repeat(40) } });
});
