// Prometheus metrics for the daemon, on prom-client with a registry of our own (never the global
// default, so two daemons in one test process cannot mix). Counters and histograms are fed by receipts
// as the meter makes them durable, whichever client asked (editor or OpenAI endpoint); requests refused
// before anything was sent are counted where they are refused. Gauges (in flight, breaker state, budget
// used) are read from telemetry and the meter at scrape time, so they are never stale.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState, Receipt, TeamStatus } from '../protocol';
import type { CatalogStore } from '../catalog/store';
import type { Telemetry } from '../engine/telemetry';
import type { Meter } from '../meter';
import type { Clock } from '../providers/simulated/clock';
import type { Refusal } from '../chat/refusal';
import type { Team } from '../team';

export interface MetricsDeps {
  catalog: CatalogStore;
  telemetry: Telemetry;
  meter: Meter;
  clock: Clock;
  team: Team;
}


const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];
const TEAM_STATES: readonly TeamStatus['telemetry'][] = ['off', 'connecting', 'connected', 'unreachable'];

/**
 * Distinct `client` label values kept; later ones are counted as `<door>:other`. The endpoint's client
 * name comes from the User-Agent, which a tool may set to anything (a run id, a host name), and each
 * value is a series per site, model and outcome kept for the daemon's life, here and in Prometheus.
 */
const MAX_CLIENT_LABELS = 64;

/** Seconds; from a few ms (a local server, a cached answer) to long generations. */
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const TOTAL_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'site' | 'provider' | 'model' | 'outcome' | 'client'>;
  private readonly errors: Counter<'site' | 'reason'>;
  private readonly failovers: Counter<'site'>;
  private readonly ttft: Histogram<'site' | 'model'>;
  private readonly total: Histogram<'site' | 'model'>;
  private readonly cost: Counter<'site' | 'provider' | 'model'>;
  private readonly tokens: Counter<'site' | 'provider' | 'model' | 'kind'>;
  private readonly unsubscribe: () => void;
  private readonly clients = new Set<string>();

  private readonly meter: Meter;

  constructor(deps: MetricsDeps) {
    this.meter = deps.meter;
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'switchyard_requests_total',
      help: 'Requests that reached a site, by the site that answered last and how they ended (complete, length, cancelled, cut, error).',
      labelNames: ['site', 'provider', 'model', 'outcome', 'client'],
      registers,
    });
    this.errors = new Counter({
      name: 'switchyard_errors_total',
      help: 'Failed requests: site is the last site tried ("none" when refused before any site was asked); reason is upstream, cut, budget, no_eligible_site, unknown_model or invalid_request.',
      labelNames: ['site', 'reason'],
      registers,
    });
    this.failovers = new Counter({
      name: 'switchyard_failed_attempts_total',
      help: 'Attempts that failed and were followed by another site (failover or continuation), by the site that failed.',
      labelNames: ['site'],
      registers,
    });
    this.ttft = new Histogram({
      name: 'switchyard_time_to_first_token_seconds',
      help: 'Time from the request being placed to its first token, failovers included.',
      labelNames: ['site', 'model'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.total = new Histogram({
      name: 'switchyard_request_duration_seconds',
      help: 'Time from the request being placed to its receipt.',
      labelNames: ['site', 'model'],
      buckets: TOTAL_BUCKETS,
      registers,
    });
    this.cost = new Counter({
      name: 'switchyard_cost_usd_total',
      help: 'Billed cost in USD (tokens, request fees and data transfer), by site, provider and model.',
      labelNames: ['site', 'provider', 'model'],
      registers,
    });
    this.tokens = new Counter({
      name: 'switchyard_tokens_total',
      help: 'Billed tokens by kind (input, cached_input, cache_write, cache_write_1h, output); cache_write_1h counts 1-hour cache writes, cache_write the others.',
      labelNames: ['site', 'provider', 'model', 'kind'],
      registers,
    });
    const { catalog, telemetry, meter, clock, team } = deps;
    new Gauge({
      name: 'switchyard_in_flight',
      help: 'Requests placed on the site and not yet settled.',
      labelNames: ['site', 'provider'],
      registers,
      collect() {
        this.reset();
        const now = clock.now();
        for (const site of catalog.catalog.sites) this.set({ site: site.id, provider: site.provider }, telemetry.snapshot(site.id, now).inFlight);
      },
    });
    new Gauge({
      name: 'switchyard_breaker_state',
      help: 'Circuit breaker per site: 1 for the state it is in, 0 for the others.',
      labelNames: ['site', 'state'],
      registers,
      collect() {
        this.reset();
        const now = clock.now();
        for (const site of catalog.catalog.sites) {
          const state = telemetry.snapshot(site.id, now).breaker;
          for (const s of BREAKER_STATES) this.set({ site: site.id, state: s }, s === state ? 1 : 0);
        }
      },
    });
    const budgetGauge = (name: string, help: string, pick: (b: ReturnType<Meter['budgets']>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['scope', 'workspace'],
        registers,
        collect() {
          this.reset();
          for (const b of meter.budgets()) this.set({ scope: b.scope, workspace: b.workspace ?? '' }, pick(b) / 1e9);
        },
      });
    budgetGauge('switchyard_budget_spent_usd', 'Spent under each budget cap in its current period, USD.', (b) => b.spentNanoUsd);
    budgetGauge('switchyard_budget_reserved_usd', 'Worst case reserved by requests in flight under each cap, USD.', (b) => b.reservedNanoUsd);
    budgetGauge('switchyard_budget_cap_usd', 'Each budget cap, USD.', (b) => b.capNanoUsd);
    new Gauge({
      name: 'switchyard_spend_usd',
      help: 'Spend recorded in the ledger for the current local day and month, USD.',
      labelNames: ['period'],
      registers,
      collect() {
        const summary = meter.summary();
        this.set({ period: 'day' }, summary.todayNanoUsd / 1e9);
        this.set({ period: 'month' }, summary.monthNanoUsd / 1e9);
      },
    });
    new Gauge({
      name: 'switchyard_team_link',
      help: 'Site telemetry shared through the team\'s Redis: 1 for the state the link is in (off, connecting, connected, unreachable), 0 for the others.',
      labelNames: ['state'],
      registers,
      collect() {
        const state = team.status().telemetry;
        for (const s of TEAM_STATES) this.set({ state: s }, s === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'switchyard_team_peers',
      help: 'Teammates\' daemons heard from in the last 5 minutes.',
      registers,
      collect() {
        this.set(team.status().peers);
      },
    });
    new Gauge({
      name: 'switchyard_team_observations',
      help: 'Site observations shared with the team (published) and taken from it (received) since sharing was last set.',
      labelNames: ['direction'],
      registers,
      collect() {
        const status = team.status();
        this.set({ direction: 'published' }, status.published);
        this.set({ direction: 'received' }, status.received);
      },
    });
    new Gauge({
      name: 'switchyard_team_ledger_link',
      help: 'The ledger and budgets on the team\'s PostgreSQL: 1 for the state the link is in (off, connecting, connected, unreachable), 0 for the others.',
      labelNames: ['state'],
      registers,
      collect() {
        const state = team.status().ledger.state;
        for (const s of TEAM_STATES) this.set({ state: s }, s === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'switchyard_team_spend_usd',
      help: 'The team\'s spend at real sites this UTC day and month, from the team ledger as last read.',
      labelNames: ['period'],
      registers,
      collect() {
        this.reset();
        const ledger = team.status().ledger;
        if (ledger.state === 'off') return;
        this.set({ period: 'day' }, ledger.spentTodayNanoUsd / 1e9);
        this.set({ period: 'month' }, ledger.spentMonthNanoUsd / 1e9);
      },
    });
    this.unsubscribe = meter.onChange((receipt) => this.observe(receipt));
  }

  /** One durable receipt. */
  observe(r: Receipt): void {
    const site = r.site.id;
    const provider = r.site.provider;
    const model = r.model;
    this.requests.inc({ site, provider, model, outcome: r.outcome, client: this.clientLabel(r.client) });
    if (r.outcome === 'error') this.errors.inc({ site, reason: 'upstream' });
    else if (r.outcome === 'cut') this.errors.inc({ site, reason: 'cut' });
    for (const attempt of r.attempts.slice(0, -1)) this.failovers.inc({ site: attempt.siteId });
    if (r.ttftMs !== null) this.ttft.observe({ site, model }, r.ttftMs / 1000);
    this.total.observe({ site, model }, r.totalMs / 1000);
    if (r.cost.totalNanoUsd > 0) this.cost.inc({ site, provider, model }, r.cost.totalNanoUsd / 1e9);
    const t = r.tokens;
    // Kinds are disjoint, billed at their own rates: 1-hour writes are a share of cacheWrite, counted apart.
    const oneHour = t.cacheWrite1h ?? 0;
    const kinds = [['input', t.input], ['cached_input', t.cachedInput], ['cache_write', t.cacheWrite - oneHour], ['cache_write_1h', oneHour], ['output', t.output]] as const;
    for (const [kind, n] of kinds) {
      if (n > 0) this.tokens.inc({ site, provider, model, kind }, n);
    }
  }

  private clientLabel(client: string): string {
    if (this.clients.has(client)) return client;
    if (this.clients.size < MAX_CLIENT_LABELS) {
      this.clients.add(client);
      return client;
    }
    // The door ("openai-api", "editor") is the daemon's own word, so this stays bounded.
    return `${client.split(':')[0]}:other`;
  }

  /** A request refused before any site was asked: nothing billed, no receipt. */
  refused(reason: Refusal): void {
    this.errors.inc({ site: 'none', reason });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** After every receipt recorded so far is durable: a scrape sees each answer already sent. */
  async text(): Promise<string> {
    await this.meter.settled();
    return this.registry.metrics();
  }

  close(): void {
    this.unsubscribe();
  }
}
