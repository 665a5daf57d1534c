// Placement engine: the API the daemon wires.
//
//   const store = new CatalogStore([userCatalogPath]);   // catalog/store.ts
//   await store.reload(); store.watch();                  // store.error: last load error (old catalog kept)
//   const telemetry = new Telemetry();
//   const clock = new RealClock();                        // providers/simulated/clock.ts
//   const router = new Router(store, telemetry, clock, mulberry32(seed));
//
//   const { placement, ticket } = router.place(
//     { model: 'llama-3.3-70b', inputTokens, maxOutputTokens, expectedOutputTokens? },
//     policy,                                             // from builtinPolicies() or a validated user policy
//     { hasKey: (p) => keys.has(p), remainingBudgetNanoUsd?, pinSite?, exclude? });
//   // placement.chosen === null: nothing eligible, placement.why says which constraint excluded what.
//   // Otherwise the chosen site already counts in flight; after the attempt (any outcome):
//   router.settle(ticket, siteResult);
//   // Failover: place again with exclude = sites already tried.
//
//   validatePolicy(json, siteIds?) -> string[]            // errors naming policy and field; [] when valid
//   siteInfos(store.catalog, telemetry, hasKey, clock.now()) -> SiteInfo[]
//   createSimulatedAdapter(site, clock, seed, { chunkMs?, replyTokens? })  // for sites with simulated: true
//
// Site ids: a real-backed site `groq/eu-helsinki/lpu` (placeable with a groq key) and its simulated twin
// `sim:groq/eu-helsinki/lpu` (always placeable; stands down while the real one is keyed). Policies and
// pins may name either; naming the real id covers its twin.

export { buildCatalog, applyCatalogFile, CatalogError, type CatalogFile } from '../catalog/merge';
export { CatalogStore } from '../catalog/store';
export { indexCatalog, siteRef, type CatalogIndex } from '../catalog/lookup';
export { twinId, realIdOf } from '../catalog/twins';
export { regionAllowed, regionGroups } from '../catalog/regions';
export { RealClock, VirtualClock, type Clock } from '../providers/simulated/clock';
export { createSimulatedAdapter, type SimulatedAdapter } from '../providers/simulated/adapter';
export { mulberry32 } from '../providers/simulated/rng';
export { builtinPolicies, validatePolicy } from './policies';
export { place, type PlaceInput } from './placement';
export { estimate, worstCaseCost } from './estimate';
export { Router, type RouteOptions, type Routed } from './router';
export { siteInfos } from './site-info';
export { Telemetry, type Ticket } from './telemetry';
export type { PlacementRequest } from './types';
