// The stateful shell around the pure placement: takes the catalog in force, telemetry, a clock and an
// rng, decides, and counts the chosen site in flight at once so the next decision sees it.

import type { CatalogIndex } from '../catalog/lookup';
import type { Placement, Policy, ProviderId } from '../protocol';
import type { Clock } from '../providers/simulated/clock';
import type { SiteResult } from '../providers/types';
import { prefillMs, ttftEstimateMs } from './estimate';
import { place } from './placement';
import type { SiteObservation, Telemetry, Ticket } from './telemetry';
import type { PlacementRequest } from './types';

export interface RouteOptions {
  hasKey(provider: ProviderId): boolean;
  remainingBudgetNanoUsd?: number;
  teamRemainingNanoUsd?: number;
  pinSite?: string;
  /** Sites this request already failed at. */
  exclude?: ReadonlySet<string>;
  /** Placement id; a counter-based one otherwise. */
  id?: string;
  /** The policy's fallback, resolved by the caller: places the request when no site meets the policy. */
  fallback?: Policy;
}

export interface Routed {
  placement: Placement;
  /** Hand back to settle() when the attempt ends; null when nothing was chosen. */
  ticket: Ticket | null;
}

export class Router {
  private counter = 0;
  private readonly learned = new Set<(observation: SiteObservation) => void>();

  constructor(
    private readonly catalog: { readonly index: CatalogIndex },
    readonly telemetry: Telemetry,
    private readonly clock: Clock,
    private readonly rng: () => number,
  ) {}

  place(request: PlacementRequest, policy: Policy, options: RouteOptions): Routed {
    const placement = this.preview(request, policy, options);
    if (placement.chosen === null) return { placement, ticket: null };
    const site = this.catalog.index.site(placement.chosen)!;
    const model = site.models.find((m) => m.canonical === request.model)!;
    const catalogTtftMs = ttftEstimateMs(model, null, request.inputTokens);
    const ticket = this.telemetry.onPlaced(site.id, request.model, this.clock.now(), prefillMs(model, request.inputTokens), site.concurrency, catalogTtftMs);
    return { placement, ticket };
  }

  /** The decision `place` acts on, without counting the chosen site in flight: where a request would go now. */
  preview(request: PlacementRequest, policy: Policy, options: RouteOptions): Placement {
    const input = {
      id: options.id ?? `p${++this.counter}`,
      request,
      index: this.catalog.index,
      telemetry: this.telemetry,
      policy,
      hasKey: options.hasKey,
      remainingBudgetNanoUsd: options.remainingBudgetNanoUsd,
      teamRemainingNanoUsd: options.teamRemainingNanoUsd,
      pinSite: options.pinSite,
      exclude: options.exclude,
      rng: this.rng,
      now: this.clock.now(),
    };
    const { fallback } = options;
    if (!fallback) return place(input);
    // A healthy site under the policy, else under its fallback; only then a site that failed, the
    // policy's before the fallback's: a request that just failed at the one site meeting the policy
    // goes where the fallback sends it, not back there.
    const strict = place({ ...input, lastResort: false });
    if (strict.chosen !== null) return strict;
    const instead = place({ ...input, policy: fallback, instead: strict, lastResort: false });
    if (instead.chosen !== null) return instead;
    const retried = place(input);
    if (retried.chosen !== null) return retried;
    // Where the fallback finds nothing either, its placement still explains the refusal better: what
    // stopped it (a budget, a missing key) is what stops the request, whatever the policy's thresholds.
    return place({ ...input, policy: fallback, instead: strict });
  }

  /** The attempt ended (any outcome): the site leaves in-flight and telemetry learns from the result. */
  settle(ticket: Ticket, result: SiteResult): void {
    const observation = this.telemetry.onResult(ticket, result, this.clock.now());
    if (observation) for (const listener of this.learned) listener(observation);
  }

  /** Told what each settled attempt taught (the team's shared telemetry publishes it). Returns an unsubscribe function. */
  onLearned(listener: (observation: SiteObservation) => void): () => void {
    this.learned.add(listener);
    return () => this.learned.delete(listener);
  }
}
