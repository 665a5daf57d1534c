// The published catalog.schema.json (the editor's squiggles) and the daemon's validator must agree: a file
// the schema accepts is one the daemon loads, and a file the daemon refuses is one the schema flags. Checked
// on samples with an independent JSON Schema implementation (Ajv, draft-07), as another editor would read it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import Ajv from 'ajv';
import { builtinSites } from '../../daemon/catalog/builtin';
import { buildCatalog } from '../../daemon/catalog/merge';
import { catalogJsonSchema } from '../../daemon/catalog/schema';

// Not strict: the schema carries VS Code's own `patternErrorMessage`, which other readers ignore.
const schemaAccepts = new Ajv({ strict: false, allErrors: true }).compile(catalogJsonSchema());

function daemonAccepts(text: string): boolean {
  try {
    buildCatalog([{ name: 'sample.json', text }]);
    return true;
  } catch {
    return false;
  }
}

const newModel = { canonical: 'mm', providerModel: 'mm', contextWindow: 8000, price: { inputPer1M: 0.1, outputPer1M: 0.2, readOn: '2026-11-01' }, ttftMs: 100, outputTokensPerSecond: 50 };
const newSite = {
  id: 'me/eu-central-1/a100', provider: 'openai-compatible', region: 'eu-central-1', location: 'Frankfurt', hardware: 'a100',
  endpoint: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000/v1' }, models: [newModel],
};
const simulation = { servers: 2, ttftBaseMs: 100, outputTokensPerSecond: 50 };
const without = <T extends object>(o: T, key: keyof T) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

/** Files by hand: the cases each rule of either side is about. */
const handmade: unknown[][] = [
  [],
  [newSite],
  [{ ...newSite, simulation }],
  [{ ...newSite, simulated: true, provider: 'simulated', endpoint: { kind: 'simulated' }, simulation }],
  [{ ...newSite, simulated: true, simulation: { servers: 2 } }],
  [{ ...newSite, simulated: true, endpoint: { kind: 'openai-compatible' }, simulation }],
  [{ ...newSite, simulated: true }],
  [{ ...newSite, simulated: true, simulation: null }],
  [{ ...newSite, simulation: null }],
  [{ ...newSite, simulation: { servers: 2 } }],
  [{ ...newSite, models: [] }],
  [{ ...newSite, models: [{ canonical: 'mm' }] }],
  [{ ...newSite, models: [{ ...newModel, price: { inputPer1M: 1 } }] }],
  [{ ...newSite, models: [{ ...newModel, price: { ...newModel.price, tier: { outputPer1M: 1 } } }] }],
  [{ ...newSite, models: [{ ...newModel, price: { ...newModel.price, tier: { aboveInputTokens: 1000, inputPer1M: 1 } } }] }],
  [{ ...newSite, models: [{ ...newModel, price: { ...newModel.price, tier: null } }] }],
  [{ ...newSite, endpoint: {} }],
  [{ ...newSite, endpoint: { kind: 'openai-compatible' } }],
  [{ ...newSite, endpoint: { kind: 'azure-openai' } }],
  [{ ...newSite, endpoint: { kind: 'openai' } }],
  [{ ...newSite, endpoint: { kind: 'simulated' } }],
  [{ ...newSite, provider: 'simulated' }],
  [without(newSite, 'provider')],
  [without(newSite, 'endpoint')],
  [{ id: 'me/x/y' }],
  [{ id: 'me/x/y', disabled: true }],
  [newSite, { ...newSite, disabled: true }],
  [{ id: 'sim:groq/eu-helsinki/lpu', disabled: true }],
  [{ id: '/leading-slash' }],
  [{ id: 'groq/eu-helsinki/lpu', colour: 'red' }],
  [{ id: 'groq/eu-helsinki/lpu', concurrency: 0 }],
  [{ id: 'groq/eu-helsinki/lpu', concurrency: 2.5 }],
  [{ id: 'groq/eu-helsinki/lpu', label: '' }],
  [{ id: 'groq/eu-helsinki/lpu', simulation: { errorRate: 1 } }],
  [{ id: 'groq/eu-helsinki/lpu', simulation: { errorRate: 1.01 } }],
  [{ id: 'groq/eu-helsinki/lpu', simulation: { outages: [{ startMs: 0 }] } }],
  [{ id: 'groq/eu-helsinki/lpu', simulation: { models: { 'llama-3.3-70b': { outputTokensPerSecond: 0 } } } }],
  [{ id: 'groq/eu-helsinki/lpu', models: [{ canonical: 'Llama' }] }],
  [{ id: 'groq/eu-helsinki/lpu', models: [{ canonical: 'llama-3.3-70b', price: { readOn: '26-01-01' } }] }],
  [{ id: 'groq/eu-helsinki/lpu', models: [{ canonical: 'llama-3.3-70b', price: { cachedInputPer1M: null } }] }],
];

/** Files from the built-in fleet: each site and model overridden in each way, and a model of its own added. */
function fromBuiltins(): unknown[][] {
  const out: unknown[][] = [];
  for (const site of builtinSites()) {
    const { id } = site;
    for (const entry of [
      { id }, { id, disabled: true }, { id, simulated: true }, { id, simulated: true, simulation: null }, { id, simulation: null },
      { id, simulation: { servers: 3 } }, { id, endpoint: { kind: 'openai-compatible' } }, { id, endpoint: { kind: 'azure-openai', baseUrl: 'https://x.openai.azure.com/openai' } },
      { id, endpoint: { kind: 'simulated' } }, { id, provider: 'simulated' }, { id, concurrency: 3 },
      { id, models: [{ canonical: 'my-model' }] }, { id, models: [{ ...newModel, canonical: 'my-model' }] },
    ]) out.push([entry]);
    for (const m of site.models) {
      const { canonical } = m;
      for (const price of [{ inputPer1M: 9 }, { tier: { outputPer1M: 1 } }, { tier: { aboveInputTokens: 1000, inputPer1M: 1 } }, { tier: null }, { readOn: 'soon' }]) {
        out.push([{ id, models: [{ canonical, price }] }]);
      }
      out.push([{ id, models: [{ canonical, contextWindow: 1000 }] }], [{ id, models: [{ canonical, providerModel: '' }] }]);
    }
  }
  return out;
}

test('the published schema and the daemon accept and refuse the same files', () => {
  const samples = [...handmade, ...fromBuiltins()].map((sites) => JSON.stringify({ sites }));
  // Numbers beyond a double: JSON's 1e400 parses to Infinity.
  samples.push('{ "sites": [ { "id": "groq/eu-helsinki/lpu", "concurrency": 1e400 } ] }', '{ "sites": [ { "id": "groq/eu-helsinki/lpu", "models": [ { "canonical": "llama-3.3-70b", "ttftMs": 1e400 } ] } ] }');
  let accepted = 0;
  const disagreements: string[] = [];
  for (const text of samples) {
    const daemon = daemonAccepts(text);
    const schema = schemaAccepts(JSON.parse(text)) as boolean;
    if (daemon) accepted++;
    if (daemon !== schema) disagreements.push(`${daemon ? 'daemon accepts, schema refuses' : 'schema accepts, daemon refuses'}: ${text}`);
  }
  assert.deepEqual(disagreements, []);
  // Both kinds of sample are there in numbers.
  assert.ok(accepted > 100 && samples.length - accepted > 100, `${accepted} of ${samples.length} accepted`);
});
