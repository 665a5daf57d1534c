// One adapter per site, kept for the daemon's life: a simulated site's adapter holds its queue, a real
// one its HTTP client. Rebuilt when a catalog reload makes the site anew; a twin keeps its queue then
// (its requests in service hold its servers still) and its outages count from the daemon's start.

import type { Site } from '../catalog/types';
import type { Clock } from './simulated/clock';
import { createSimulatedAdapter, type SimulatedAdapter } from './simulated/adapter';
import type { SiteAdapter } from './types';

export type RealAdapterFactory = (site: Site) => SiteAdapter;

export class AdapterPool {
  private readonly adapters = new Map<string, { site: Site; adapter: SiteAdapter }>();
  private readonly epoch: number;

  constructor(
    private readonly clock: Clock,
    private readonly seed: number,
    private readonly real: RealAdapterFactory,
  ) {
    this.epoch = clock.now();
  }

  get(site: Site): SiteAdapter {
    const kept = this.adapters.get(site.id);
    if (kept && kept.site === site) return kept.adapter;
    const queue = kept && 'queue' in kept.adapter ? (kept.adapter as SimulatedAdapter).queue : undefined;
    const adapter = site.simulated ? createSimulatedAdapter(site, this.clock, this.seed, { epoch: this.epoch, queue }) : this.real(site);
    this.adapters.set(site.id, { site, adapter });
    return adapter;
  }
}
