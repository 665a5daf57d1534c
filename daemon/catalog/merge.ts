// Pure merge of user catalog files over the built-in definitions. A file is applied whole or not at all:
// the first file with an error aborts the build and the caller keeps its previous catalog.

import { builtinSites } from './builtin';
import { validateShape } from './shape';
import { CATALOG_FILE_SHAPE } from './schema';
import { expandTwins, realIdOf } from './twins';
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

/** Field-by-field override; nested objects merge, everything else (arrays included) replaces. */
function overlay<T>(base: T, patch: Json): T {
  const out: Json = { ...(base as Json) };
  for (const [k, v] of Object.entries(patch)) {
    // Assigned, "__proto__" would set the prototype, and its values would be read as the entry's own.
    if (k === '__proto__') continue;
    out[k] = isObject(v) && isObject(out[k]) ? overlay(out[k], v) : v;
  }
  return out as T;
}

function missing(obj: Json, fields: readonly string[], prefix: string): string[] {
  return fields.filter((f) => obj[f] === undefined).map((f) => `${prefix}${f} is required for a new ${prefix ? 'entry' : 'site'}`);
}

const NEW_SITE_FIELDS = ['provider', 'region', 'location', 'hardware', 'endpoint', 'models'] as const;
const NEW_MODEL_FIELDS = ['providerModel', 'contextWindow', 'price', 'ttftMs', 'outputTokensPerSecond'] as const;
const NEW_PRICE_FIELDS = ['inputPer1M', 'outputPer1M', 'readOn'] as const;
const NEW_SIMULATION_FIELDS = ['servers', 'ttftBaseMs', 'outputTokensPerSecond'] as const;

function mergeModels(base: SiteModel[], patches: Json[], problems: string[]): SiteModel[] {
  const out = [...base];
  patches.forEach((patch, i) => {
    const at = out.findIndex((m) => m.canonical === patch.canonical);
    if (at >= 0) {
      out[at] = overlay(out[at], patch);
      return;
    }
    const errs = missing(patch, NEW_MODEL_FIELDS, `models[${i}].`);
    if (isObject(patch.price)) errs.push(...missing(patch.price, NEW_PRICE_FIELDS, `models[${i}].price.`));
    problems.push(...errs);
    if (errs.length === 0) out.push(patch as unknown as SiteModel);
  });
  return out;
}

function mergeSimulation(base: SimulationSpec | undefined, patch: Json, problems: string[]): SimulationSpec {
  if (base) return overlay(base, patch);
  problems.push(...missing(patch, NEW_SIMULATION_FIELDS, 'simulation.'));
  return { jitter: 0, errorRate: 0, ttftPerInputTokenMs: 0, ...patch } as unknown as SimulationSpec;
}

function mergeEntry(base: Site | undefined, entry: Json, problems: string[]): Site {
  const { models, simulation, ...rest } = entry;
  if (!base) {
    problems.push(...missing(entry, NEW_SITE_FIELDS, ''));
    if (Array.isArray(models) && models.length === 0) problems.push('models must list at least one model for a new site');
    if (entry.simulated === true && !isObject(simulation)) problems.push('simulation is required for a simulated site');
  }
  let site = overlay<Site>(base ?? ({ simulated: false, models: [] } as unknown as Site), rest);
  if (Array.isArray(models)) site = { ...site, models: mergeModels(site.models, models as Json[], problems) };
  if (simulation === null) {
    const { simulation: _removed, ...withoutTwin } = site;
    site = withoutTwin;
  } else if (isObject(simulation)) {
    site = { ...site, simulation: mergeSimulation(site.simulation, simulation, problems) };
  }
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
    if (realIdOf(id) !== null) {
      entryProblems.push(`id: address the real site "${realIdOf(id)}"; its simulated twin follows it (simulation: null removes the twin)`);
    } else {
      byId.set(id, mergeEntry(byId.get(id), entry, entryProblems));
    }
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
