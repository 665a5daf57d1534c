// Every site that has a SimulationSpec exists twice in the merged catalog: the real-backed site under
// its own id (placeable only with a key for its provider) and its simulated twin under `sim:<id>`
// (always placeable, keeps the real provider name for display, `simulated: true`). The twin carries the
// real site's prices, so a simulated bill reads like the real one would.

import type { Site } from './types';

export const TWIN_PREFIX = 'sim:';

export function twinId(realId: string): string {
  return TWIN_PREFIX + realId;
}

/** The real site a twin stands in for, or null for a site that is not a twin. */
export function realIdOf(siteId: string): string | null {
  return siteId.startsWith(TWIN_PREFIX) ? siteId.slice(TWIN_PREFIX.length) : null;
}

function twinOf(site: Site): Site {
  const spec = site.simulation!;
  return {
    ...site,
    id: twinId(site.id),
    simulated: true,
    label: `simulated twin of ${site.label ?? site.id}`,
    endpoint: { kind: 'simulated' },
    concurrency: spec.servers,
    simulation: spec,
  };
}

/**
 * Expands definitions into placeable sites. A definition already marked simulated (a user's purely
 * simulated site) stays as it is; a real one with a spec yields itself (without the spec) and its twin.
 */
export function expandTwins(definitions: readonly Site[]): Site[] {
  const out: Site[] = [];
  for (const def of definitions) {
    if (def.simulated || !def.simulation) {
      out.push(def.simulated && def.simulation && def.concurrency === undefined ? { ...def, concurrency: def.simulation.servers } : def);
      continue;
    }
    const { simulation: _spec, ...real } = def;
    out.push(real, twinOf(def));
  }
  return out;
}
