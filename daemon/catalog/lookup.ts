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

/** The wire identity of a site. */
export function siteRef(site: Site): SiteRef {
  return { id: site.id, provider: site.provider, region: site.region, location: site.location, hardware: site.hardware, simulated: site.simulated };
}
