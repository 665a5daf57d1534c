// One adapter per site, kept for the daemon's life: a simulated site's adapter holds its queue, a real
// one its HTTP client. Rebuilt when the catalog changes what a site is.

import type { Site } from '../catalog/types';
import type { Clock } from './simulated/clock';
import { createSimulatedAdapter } from './simulated/adapter';
import type { SiteAdapter } from './types';

export type RealAdapterFactory = (site: Site) => SiteAdapter;

export class AdapterPool {
  private readonly adapters = new Map<string, { site: Site; adapter: SiteAdapter }>();

  constructor(
    private readonly clock: Clock,
    private readonly seed: number,
    private readonly real: RealAdapterFactory,
  ) {}

  get(site: Site): SiteAdapter {
    const kept = this.adapters.get(site.id);
    if (kept && kept.site === site) return kept.adapter;
    const adapter = site.simulated ? createSimulatedAdapter(site, this.clock, this.seed) : this.real(site);
    this.adapters.set(site.id, { site, adapter });
    return adapter;
  }
}
