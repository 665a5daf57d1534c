// A team's daemons share what each learns about the real sites: time to first token, output speed,
// errors, breaker-opening failures, rate-limit headroom and Retry-After. One developer's daemon that
// meets a failing or throttled site spares the others their own failures there, and a daemon that has
// just started places from the team's measurements instead of the catalog's figures.
//
// Through Redis (DESIGN.md: live shared state goes on an existing engine, not a home-made one): the
// observations are published on a channel in small batches and kept, for a few minutes, in a short
// list that a daemon joining later replays. Simulated sites are never shared: each daemon simulates its own fleet, so
// one daemon's simulated queue says nothing about another's. In-flight counts stay per daemon; the
// providers' rate-limit headers already speak for the account the team shares.

import crypto from 'node:crypto';
import { createClient } from 'redis';
import { z } from 'zod';
import type { Site } from '../catalog/types';
import type { SiteObservation } from '../engine/telemetry';
import type { TeamStatus } from '../protocol';
import { teamServerOf } from './url';

const CHANNEL = 'switchyard:telemetry:v2';
const RECENT_KEY = 'switchyard:telemetry:v2:recent';
/** Observations are sent in batches at most this often: a busy daemon sends a few messages a second, not one per request. */
const BATCH_MS = 50;
/** And at most this many to a batch; a daemon that has more in one interval drops the oldest. */
const BATCH_MAX = 500;
/** Batches a daemon joining later replays, newest kept. */
const RECENT_KEEP = 200;
/** Older than this, what a site did says little about what it does now. */
const RECENT_TTL_MS = 10 * 60_000;
/** A teammate heard from within this window counts as present. */
const PEER_WINDOW_MS = 5 * 60_000;
/** Between reconnection attempts, growing to this. */
const MAX_RECONNECT_MS = 5000;

const finite = z.number().finite();
// Each field within what an attempt can measure: a teammate's figures are learned as this daemon's own,
// and absurd ones (finite, but 9e15 tokens) would skew its speeds, or pin a queue depth that a real
// site never reports again to overwrite, for as long as it runs.
/** A day: longer than any attempt, and than any Retry-After worth honouring. */
const MAX_MS = 86_400_000;
/** Above any model's longest answer. */
const MAX_OUTPUT_TOKENS = 10_000_000;
const MAX_QUEUE_DEPTH = 10_000;
const ms = finite.min(0).max(MAX_MS);
const observationSchema = z.strictObject({
  siteId: z.string().min(1).max(200),
  model: z.string().min(1).max(200),
  queued: z.boolean(),
  prefillMs: ms,
  expectedTtftMs: ms,
  outcome: z.enum(['complete', 'length', 'cancelled', 'cut', 'error']),
  ttftMs: ms.nullable(),
  durationMs: ms,
  outputTokens: z.number().int().min(0).max(MAX_OUTPUT_TOKENS),
  queueDepth: z.number().int().min(0).max(MAX_QUEUE_DEPTH).optional(),
  headroom: z.number().min(0).max(1).nullable(),
  error: z.strictObject({ status: z.number().int().optional(), retryable: z.boolean().optional(), retryAfterMs: ms.optional() }).optional(),
});
const envelopeSchema = z.strictObject({ origin: z.string().min(1).max(100), at: finite, observations: z.array(observationSchema).min(1).max(BATCH_MAX) });
type Envelope = z.infer<typeof envelopeSchema>;

export interface SharedTelemetryDeps {
  /** The site by id in the catalog in force; only real sites are shared or taken. */
  site(id: string): Site | undefined;
  /** Learns a teammate's observation, as if at `now` (the telemetry clock). */
  observe(observation: SiteObservation, now: number): void;
  now(): number;
  /** The link came up or went down. */
  changed(): void;
  log: { info(message: string, fields?: object): void; warn(message: string, fields?: object): void };
  /** What this daemon's earlier links learned; a link of its own when left out. */
  memory?: TelemetryMemory;
}

/**
 * What one daemon's successive links to the team's Redis share. Sharing stopped and started again (or
 * pointed at the same server by another URL) replays the list, which holds this daemon's own batches
 * and teammates' batches it has already learned: learned again, each failure would count twice
 * towards a site's breaker, and its own batches would count this daemon as its own teammate.
 */
export class TelemetryMemory {
  /** Tells this daemon's own messages apart when they come back on the channel, whichever link sent them. */
  readonly origin = crypto.randomUUID();
  /** Digests of the batches learned last: as many as the list keeps, so every one a replay can bring. */
  private readonly learned = new Set<string>();

  /** Whether this batch was learned before; remembered as learned from now on. */
  seen(message: string): boolean {
    const digest = crypto.createHash('sha256').update(message).digest('base64');
    if (this.learned.has(digest)) return true;
    this.learned.add(digest);
    if (this.learned.size > RECENT_KEEP) this.learned.delete(this.learned.values().next().value!);
    return false;
  }
}

export class SharedTelemetry {
  private readonly memory: TelemetryMemory;
  private readonly publisher: ReturnType<typeof createClient>;
  private readonly subscriber: ReturnType<typeof createClient>;
  private readonly peers = new Map<string, number>();
  private readonly server: string;
  private state: TeamStatus['telemetry'] = 'connecting';
  private error: string | null = null;
  private published = 0;
  private received = 0;
  private refused = 0;
  private subscribed = false;
  private replaying = false;
  private closed = false;
  private pending: SiteObservation[] = [];
  /**
   * Live messages heard before the first replay is done (at most RECENT_KEEP): a teammate's batch sent
   * between subscribing and reading the list arrives both ways, and is learned once, in its order.
   */
  private heldLive: string[] | null = [];
  private batchTimer: NodeJS.Timeout | undefined;

  constructor(url: string, private readonly deps: SharedTelemetryDeps) {
    this.server = teamServerOf(url, 'redis');
    this.memory = deps.memory ?? new TelemetryMemory();
    // Offline, an observation is dropped rather than queued: stale by the time Redis is back, and an
    // unbounded queue would grow for as long as it is away.
    this.publisher = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 5000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, MAX_RECONNECT_MS) } });
    this.subscriber = this.publisher.duplicate();
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.unreachable(error));
      client.on('ready', () => this.ready());
    }
  }

  /** Starts connecting, and keeps trying while Redis is away: status() says how it goes. */
  start(): void {
    this.publisher.connect().catch((error: Error) => this.unreachable(error));
    this.subscriber
      .connect()
      .then(() => this.subscriber.subscribe(CHANNEL, (message) => this.take(message)))
      .then(() => {
        // node-redis subscribes again by itself after a reconnect; the first time, nothing is heard before this.
        this.subscribed = true;
        this.ready();
      })
      .catch((error: Error) => this.unreachable(error));
  }

  /** Shares what an attempt at a real site taught, in the next batch; dropped while Redis is away. */
  publish(observation: SiteObservation): void {
    // The connections, not the link's state: a write Redis refused (out of memory, a replica during a
    // failover) leaves the link unreachable with both connections up, and only a write that goes
    // through again can say it mended.
    if (!this.up || !this.shared(observation.siteId)) return;
    if (this.pending.length === BATCH_MAX) this.pending.shift();
    this.pending.push(observation);
    this.batchTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.batchTimer = undefined;
    const observations = this.pending;
    this.pending = [];
    if (!this.up || observations.length === 0) return;
    const message = JSON.stringify({ origin: this.memory.origin, at: Date.now(), observations } satisfies Envelope);
    this.publisher
      .multi()
      .publish(CHANNEL, message)
      .lPush(RECENT_KEY, message)
      .lTrim(RECENT_KEY, 0, RECENT_KEEP - 1)
      .pExpire(RECENT_KEY, RECENT_TTL_MS)
      .exec()
      .then(() => {
        this.published += observations.length;
        if (this.up) this.connected();
      })
      .catch((error: Error) => this.unreachable(error));
  }

  status(): Omit<TeamStatus, 'ledger'> {
    const now = Date.now();
    // Each daemon start is a new origin: the ones not heard from lately are forgotten.
    for (const [origin, at] of this.peers) if (now - at > PEER_WINDOW_MS) this.peers.delete(origin);
    const peers = this.peers.size;
    return { telemetry: this.state, server: this.server, peers, published: this.published, received: this.received, error: this.error };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = 'connecting';
    clearTimeout(this.batchTimer);
    await Promise.allSettled([this.subscriber.close(), this.publisher.close()]);
  }

  private shared(siteId: string): boolean {
    const site = this.deps.site(siteId);
    return site !== undefined && !site.simulated;
  }

  /** Both connections up, subscribed, and what was sent before caught up on (live messages are no longer held). */
  private get up(): boolean {
    return !this.closed && this.subscribed && this.heldLive === null && this.publisher.isReady && this.subscriber.isReady;
  }

  /** Both connections up (again): connected once subscribed and, the first time, caught up on what was missed. */
  private ready(): void {
    if (this.closed || !this.subscribed || !this.publisher.isReady || !this.subscriber.isReady) return;
    if (this.heldLive === null) return this.connected();
    if (this.replaying) return;
    this.replaying = true;
    void this.replay().then((ok) => {
      this.replaying = false;
      if (ok) this.connected();
    });
  }

  private connected(): void {
    if (this.closed || this.state === 'connected') return;
    this.state = 'connected';
    this.error = null;
    this.deps.log.info('team telemetry connected', { server: this.server });
    this.deps.changed();
  }

  private unreachable(error: Error): void {
    if (this.closed) return;
    const message = error.message || String(error);
    if (this.state === 'unreachable' && this.error === message) return;
    this.deps.log.warn('team telemetry unreachable; retrying', { server: this.server, error: message });
    this.state = 'unreachable';
    this.error = message;
    this.deps.changed();
  }

  /** What teammates saw in the last minutes, oldest first, each learned at its own age. */
  private async replay(): Promise<boolean> {
    try {
      const recent = await this.publisher.lRange(RECENT_KEY, 0, RECENT_KEEP - 1);
      for (const message of recent.reverse()) this.take(message, true);
      const live = this.heldLive ?? [];
      this.heldLive = null;
      // Those the list already had were learned just now, and are skipped as seen.
      for (const message of live) this.take(message);
      return true;
    } catch (error) {
      this.unreachable(error as Error);
      return false;
    }
  }

  private take(message: string, replaying = false): void {
    if (!replaying && this.heldLive) {
      if (this.heldLive.length < RECENT_KEEP) this.heldLive.push(message);
      return;
    }
    let envelope: Envelope;
    try {
      envelope = envelopeSchema.parse(JSON.parse(message));
    } catch (error) {
      // Another program on the channel, or a newer Switchyard's format: said once, then counted.
      if (this.refused++ === 0) this.deps.log.warn('team telemetry: a message was not understood and is ignored', { error: (error as Error).message.slice(0, 300) });
      return;
    }
    if (envelope.origin === this.memory.origin) return;
    // A live message is news from now: pub/sub delivers in milliseconds, and the sender's clock may be
    // off from ours. Only a replayed one is dated by its stamp, as well as two clocks allow.
    const age = replaying ? Math.max(0, Date.now() - envelope.at) : 0;
    if (age > RECENT_TTL_MS) return;
    const heard = Date.now() - age;
    this.peers.set(envelope.origin, Math.max(this.peers.get(envelope.origin) ?? 0, heard));
    if (this.memory.seen(message)) return;
    const now = this.deps.now() - age;
    for (const observation of envelope.observations) {
      if (!this.shared(observation.siteId)) continue;
      this.received++;
      this.deps.observe(observation, now);
    }
  }
}
