// Precomputed per catalog, outside the hot path: which sites offer each canonical model, so a placement
// touches only those sites.

import { compileCard, type CompiledCard } from '../meter/pricing';
import type { SiteRef } from '../protocol';
import type { Catalog, Site, SiteModel } from './types';

export interface Offer {
  site: Site;
  model: SiteModel;
  /** The model's price card as integer rates, compiled once per index so a placement prices without
   *  converting (or allocating) per site. */
  card: CompiledCard;
}

export interface CatalogIndex {
  catalog: Catalog;
  offers(canonical: string): readonly Offer[];
  site(id: string): Site | undefined;
  models(): string[];
}

export function indexCatalog(catalog: Catalog): CatalogIndex {
  const byModel = new Map<string, Offer[]>();
  const byId = new Map<string, Site>();
  for (const site of catalog.sites) {
    byId.set(site.id, site);
    for (const model of site.models) {
      let list = byModel.get(model.canonical);
      if (!list) byModel.set(model.canonical, (list = []));
      list.push({ site, model, card: compileCard(model.price) });
    }
  }
  return {
    catalog,
    offers: (canonical) => byModel.get(canonical) ?? [],
    site: (id) => byId.get(id),
    models: () => [...byModel.keys()].sort(),
  };
}

/**
 * Where to find the address of a site whose endpoint kind has none by default: an Azure resource is the
 * user's own, and an OpenAI-compatible server is wherever it runs. The catalog must give endpoint.baseUrl.
 */
export const ADDRESS_EXAMPLE: Readonly<Record<'azure-openai' | 'openai-compatible', string>> = {
  'azure-openai': 'https://<resource>.openai.azure.com/openai',
  'openai-compatible': 'the server\'s URL, e.g. https://host/v1',
};

/** Whether the catalog says where to reach the site (a real site of a kind with no default address needs its baseUrl). */
export function addressed(site: Site): boolean {
  const { kind, baseUrl } = site.endpoint;
  return baseUrl !== undefined || (kind !== 'azure-openai' && kind !== 'openai-compatible');
}

/** The wire identity of a site. */
export function siteRef(site: Site): SiteRef {
  return { id: site.id, provider: site.provider, region: site.region, location: site.location, hardware: site.hardware, simulated: site.simulated };
}
