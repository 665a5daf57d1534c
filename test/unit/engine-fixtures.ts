// Hand-built fleets for engine tests: every figure chosen so expected numbers can be worked by hand.

import { indexCatalog, type CatalogIndex } from '../../daemon/catalog/lookup';
import type { Site, SiteModel } from '../../daemon/catalog/types';
import type { Policy } from '../../daemon/protocol';
import { place, type PlaceInput } from '../../daemon/engine/placement';
import { Telemetry } from '../../daemon/engine/telemetry';
import { mulberry32 } from '../../daemon/providers/simulated/rng';

export function model(over: Partial<SiteModel> = {}): SiteModel {
  return {
    canonical: 'm',
    providerModel: 'm-provider',
    contextWindow: 100_000,
    price: { inputPer1M: 1, outputPer1M: 2, readOn: '2026-01-01' },
    ttftMs: 200,
    outputTokensPerSecond: 100,
    ...over,
  };
}

export function simSite(id: string, over: Partial<Site> = {}, m: Partial<SiteModel> = {}): Site {
  return {
    id,
    provider: 'simulated',
    region: 'us-east-1',
    location: 'test',
    hardware: 'h100',
    simulated: true,
    endpoint: { kind: 'simulated' },
    concurrency: 4,
    models: [model(m)],
    ...over,
  };
}

export function fleet(...sites: Site[]): CatalogIndex {
  return indexCatalog({ sites, files: [] });
}

export function decide(index: CatalogIndex, policy: Policy, over: Partial<PlaceInput> = {}) {
  return place({
    id: 't',
    request: { model: 'm', inputTokens: 1000, maxOutputTokens: 500, expectedOutputTokens: 100 },
    index,
    telemetry: new Telemetry(),
    policy,
    hasKey: () => false,
    rng: mulberry32(7),
    now: 1_000_000,
    ...over,
  });
}
