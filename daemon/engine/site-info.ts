// The wire view of the catalog with live telemetry, for the sites panel.

import { addressed, siteRef } from '../catalog/lookup';
import type { Catalog } from '../catalog/types';
import type { ProviderId, SiteInfo } from '../protocol';
import { callsTools, seesImages } from './placement';
import type { Telemetry } from './telemetry';

export function siteInfos(catalog: Catalog, telemetry: Telemetry, hasKey: (provider: ProviderId) => boolean, now: number): SiteInfo[] {
  return catalog.sites.map((site) => ({
    site: siteRef(site),
    endpointKind: site.endpoint.kind,
    models: site.models.map((m) => ({
      canonical: m.canonical,
      providerModel: m.providerModel,
      contextWindow: m.contextWindow,
      price: m.price,
      ttftMs: m.ttftMs,
      outputTokensPerSecond: m.outputTokensPerSecond,
      maxOutputTokens: m.maxOutputTokens ?? null,
      images: seesImages({ site, model: m }, 'inline'),
      tools: callsTools(site),
    })),
    telemetry: telemetry.snapshot(site.id, now),
    unavailable: site.disabled ? 'disabled' : site.simulated ? null : !hasKey(site.provider) ? 'no key' : !addressed(site) ? 'no address' : null,
  }));
}
