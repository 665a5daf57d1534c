// Pure merge of user catalog files over the built-in definitions. A file is applied whole or not at all:
// the first file with an error aborts the build and the caller keeps its previous catalog.

import { builtinSites } from './builtin';
import { missingOnCreate, validateShape, type ShapeError } from './shape';
import { CATALOG_FILE_SHAPE, MODEL_SHAPE, NEEDS_BASE_URL, SIMULATION_SHAPE, SITE_SHAPE, TIER_SHAPE } from './schema';
import { expandTwins } from './twins';
import type { Catalog, SimulationSpec, Site, SiteModel } from './types';

export interface CatalogFile {
  /** Path shown in errors. */
  name: string;
  text: string;
}

export class CatalogError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`);
    this.name = 'CatalogError';
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Field-by-field override; nested objects merge, null removes the field (the shapes allow it only where
 * removing means something: a tier, a twin), everything else (arrays included) replaces.
 */
function overlay<T>(base: T, patch: Json): T {
  const out: Json = { ...(base as Json) };
  for (const [k, v] of Object.entries(patch)) {
    // Assigned, "__proto__" would set the prototype, and its values would be read as the entry's own.
    if (k === '__proto__') continue;
    if (v === null) delete out[k];
    else out[k] = isObject(v) ? overlay(isObject(out[k]) ? out[k] : {}, v) : v;
  }
  return out as T;
}

const said = (errors: ShapeError[]) => errors.map((e) => `${e.path} ${e.message}`);

/**
 * The entry's models over the site's, matched by canonical id. `judge`: the site is known, so a model it
 * does not offer yet, or a tier its card lacks, is new and must be complete (a new site was judged whole).
 */
function mergeModels(base: SiteModel[], patches: Json[], judge: boolean, problems: ShapeError[]): SiteModel[] {
  const out = [...base];
  patches.forEach((patch, i) => {
    const at = out.findIndex((m) => m.canonical === patch.canonical);
    if (at < 0) {
      if (judge) missingOnCreate(patch, MODEL_SHAPE, `models[${i}]`, 'model', problems);
      out.push(overlay({} as SiteModel, patch));
      return;
    }
    const tier = isObject(patch.price) ? patch.price.tier : undefined;
    if (judge && !out[at].price.tier) missingOnCreate(tier, TIER_SHAPE, `models[${i}].price.tier`, 'tier', problems);
    out[at] = overlay(out[at], patch);
  });
  return out;
}

function mergeSimulation(base: SimulationSpec | undefined, patch: Json, judge: boolean, problems: ShapeError[]): SimulationSpec {
  if (base) return overlay(base, patch);
  if (judge) missingOnCreate(patch, SIMULATION_SHAPE, 'simulation', 'simulation', problems);
  return { jitter: 0, errorRate: 0, ttftPerInputTokenMs: 0, ...patch } as unknown as SimulationSpec;
}

/** What keeps a merged site from being served: found when the file is read, not when a request reaches the site. */
function unusable(site: Site, isNew: boolean): string[] {
  const problems: string[] = [];
  const { kind } = site.endpoint;
  if (site.simulated && !site.simulation) problems.push('simulation is required for a simulated site');
  if (!site.simulated) {
    for (const [field, value] of [['provider', site.provider], ['endpoint.kind', kind]] as const) {
      if (value === 'simulated') problems.push(`${field} "simulated" is for a simulated site: set "simulated": true and give it a simulation`);
    }
    // New sites only: the built-in Azure sites wait for the address of the user's own resource, which an override gives.
    if (isNew && NEEDS_BASE_URL.includes(kind) && !site.endpoint.baseUrl) problems.push(`endpoint.baseUrl is required for a new site of kind ${kind}`);
  }
  return problems;
}

function mergeEntry(base: Site | undefined, entry: Json, problems: string[]): Site {
  const { models, simulation, ...rest } = entry;
  const errors: ShapeError[] = [];
  if (!base) {
    missingOnCreate(entry, SITE_SHAPE, '', 'site', errors);
    if (Array.isArray(models) && models.length === 0) problems.push('models must list at least one model for a new site');
  }
  let site = overlay<Site>(base ?? ({ simulated: false, models: [] } as unknown as Site), rest);
  if (Array.isArray(models)) site = { ...site, models: mergeModels(site.models, models as Json[], base !== undefined, errors) };
  if (simulation === null) {
    const { simulation: _removed, ...withoutTwin } = site;
    site = withoutTwin;
  } else if (isObject(simulation)) {
    site = { ...site, simulation: mergeSimulation(site.simulation, simulation, base !== undefined, errors) };
  }
  problems.push(...said(errors));
  if (errors.length === 0) problems.push(...unusable(site, !base));
  return site;
}

/** Applies one file's entries to the definitions; throws CatalogError naming the file, entry and field. */
export function applyCatalogFile(definitions: readonly Site[], file: CatalogFile): Site[] {
  let json: unknown;
  try {
    json = JSON.parse(file.text);
  } catch (e) {
    throw new CatalogError(file.name, [`not valid JSON: ${(e as Error).message}`]);
  }
  const shapeErrors = validateShape(json, CATALOG_FILE_SHAPE);
  const entries = isObject(json) && Array.isArray(json.sites) ? (json.sites as unknown[]) : [];
  const entryName = (i: number) => {
    const id = isObject(entries[i]) ? entries[i].id : undefined;
    return typeof id === 'string' ? `sites[${i}] "${id}"` : `sites[${i}]`;
  };
  const problems = shapeErrors.map((e) => {
    const m = /^sites\[(\d+)\]\.?(.*)$/.exec(e.path);
    return m ? `${entryName(Number(m[1]))}: ${m[2] || '(entry)'} ${e.message}` : `${e.path} ${e.message}`;
  });
  if (problems.length) throw new CatalogError(file.name, problems);

  const byId = new Map(definitions.map((s) => [s.id, s]));
  entries.forEach((raw, i) => {
    const entry = raw as Json;
    const id = entry.id as string;
    const entryProblems: string[] = [];
    byId.set(id, mergeEntry(byId.get(id), entry, entryProblems));
    problems.push(...entryProblems.map((p) => `${entryName(i)}: ${p}`));
  });
  if (problems.length) throw new CatalogError(file.name, problems);
  return [...byId.values()];
}

/** The catalog from the built-in fleet and the user's files, in order. Throws CatalogError. */
export function buildCatalog(files: readonly CatalogFile[] = [], builtin: readonly Site[] = builtinSites()): Catalog {
  const definitions = files.reduce<Site[]>((defs, f) => applyCatalogFile(defs, f), [...builtin]);
  return { sites: expandTwins(definitions), files: files.map((f) => f.name) };
}
