import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinSites } from '../../daemon/catalog/builtin';
import { buildCatalog, CatalogError } from '../../daemon/catalog/merge';
import { regionAllowed } from '../../daemon/catalog/regions';
import { catalogJsonSchema, SITE_SHAPE } from '../../daemon/catalog/schema';
import { validateShape } from '../../daemon/catalog/shape';
import { CatalogStore } from '../../daemon/catalog/store';

const file = (sites: unknown[], name = 'user.json') => ({ name, text: JSON.stringify({ sites }) });

function refused(files: { name: string; text: string }[]): string {
  try {
    buildCatalog(files);
  } catch (e) {
    assert.ok(e instanceof CatalogError);
    return e.message;
  }
  assert.fail('expected a CatalogError');
}

test('built-in fleet: every site valid, dated, with a simulated twin under sim:<id>', () => {
  for (const s of builtinSites()) assert.deepEqual(validateShape(s, SITE_SHAPE), [], s.id);
  const { sites } = buildCatalog();
  const real = sites.filter((s) => !s.simulated);
  assert.ok(real.length >= 10);
  for (const r of real) {
    const twin = sites.find((s) => s.id === `sim:${r.id}`);
    assert.ok(twin && twin.simulated && twin.provider === r.provider && twin.simulation && twin.endpoint.kind === 'simulated', r.id);
    assert.equal(r.simulation, undefined);
    for (const m of r.models) assert.match(m.price.readOn, /^\d{4}-\d{2}-\d{2}$/);
  }
  const llama = new Set<string>(sites.filter((s) => s.models.some((m) => m.canonical === 'llama-3.3-70b') && !s.simulated).map((s) => s.provider));
  assert.ok(['groq', 'together', 'bedrock', 'fireworks', 'openrouter'].every((p) => llama.has(p)));
  assert.equal(sites.find((s) => s.id === 'groq/eu-amsterdam/lpu')?.disabled, true);
  assert.match(sites.find((s) => s.id === 'google/us-central1/tpu-v5e')!.location, /Council Bluffs/);
});

test('the published JSON Schema is generated from the validator shapes', async () => {
  const published = JSON.parse(await readFile(join(__dirname, '../../daemon/catalog/catalog.schema.json'), 'utf8'));
  assert.deepEqual(published, catalogJsonSchema());
});

test('a user file overrides a price, disables a site, adds a site, removes a twin', () => {
  const { sites } = buildCatalog([file([
    { id: 'groq/eu-helsinki/lpu', models: [{ canonical: 'llama-3.3-70b', price: { inputPer1M: 0.5 } }] },
    { id: 'together/us/h100', disabled: true },
    { id: 'openai/us/managed', simulation: null },
    {
      id: 'me/eu-central-1/a100', provider: 'openai-compatible', region: 'eu-central-1', location: 'Frankfurt', hardware: 'a100',
      endpoint: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000/v1' },
      models: [{ canonical: 'llama-3.3-70b', providerModel: 'llama', contextWindow: 32_000, price: { inputPer1M: 0, outputPer1M: 0, readOn: '2026-11-01' }, ttftMs: 300, outputTokensPerSecond: 40 }],
    },
  ])]);
  const groq = sites.find((s) => s.id === 'sim:groq/eu-helsinki/lpu')!.models.find((m) => m.canonical === 'llama-3.3-70b')!;
  assert.equal(groq.price.inputPer1M, 0.5);
  assert.equal(groq.price.outputPer1M, 0.79);
  assert.equal(sites.find((s) => s.id === 'sim:together/us/h100')?.disabled, true);
  assert.equal(sites.find((s) => s.id === 'sim:openai/us/managed'), undefined);
  assert.ok(sites.find((s) => s.id === 'me/eu-central-1/a100'));
  assert.equal(sites.find((s) => s.id === 'sim:me/eu-central-1/a100'), undefined);
});

test('invalid input is refused naming the file, the entry and the field', () => {
  assert.equal(refused([file([{ id: 'groq/eu-helsinki/lpu', models: [{ canonical: 'llama-3.3-70b', price: { inputPer1M: -1 } }] }], 'a.json')]),
    'a.json: sites[0] "groq/eu-helsinki/lpu": models[0].price.inputPer1M must be a number >= 0, got -1');
  assert.equal(refused([file([{ id: 'new/site', provider: 'groq', region: 'us', location: 'x', hardware: 'h100', endpoint: { kind: 'openai' } }], 'b.json')]),
    'b.json: sites[0] "new/site": models is required for a new site');
  assert.match(refused([file([{ id: 'x/y', provider: 'nobody' }], 'c.json')]), /^c\.json: sites\[0\] "x\/y": provider must be one of simulated, openai/);
  assert.match(refused([file([{ id: 'sim:groq/eu-helsinki/lpu', disabled: true }], 'd.json')]), /^d\.json: sites\[0\] "sim:groq\/eu-helsinki\/lpu": id must be a real site id .*not a simulated twin's/);
  assert.match(refused([{ name: 'e.json', text: '{ "sites": [' }]), /^e\.json: not valid JSON/);
  assert.match(refused([file([{ id: 'groq/eu-helsinki/lpu', colour: 'red' }], 'f.json')]), /^f\.json: sites\[0\] "groq\/eu-helsinki\/lpu": colour is not a known field/);
});

test('a price card may name the 1-hour cache-write price; a bad one is refused naming the field', () => {
  const { sites } = buildCatalog([file([{ id: 'anthropic/us/managed', models: [{ canonical: 'claude-3.5-haiku', price: { cacheWrite1hPer1M: 1.7 } }] }])]);
  const haiku = sites.find((s) => s.id === 'anthropic/us/managed')!.models.find((m) => m.canonical === 'claude-3.5-haiku')!;
  assert.equal(haiku.price.cacheWrite1hPer1M, 1.7);
  assert.equal(haiku.price.inputPer1M, 0.8, 'the rest of the card stays');
  assert.equal(refused([file([{ id: 'anthropic/us/managed', models: [{ canonical: 'claude-3.5-haiku', price: { cacheWrite1hPer1M: -2 } }] }], 'g.json')]),
    'g.json: sites[0] "anthropic/us/managed": models[0].price.cacheWrite1hPer1M must be a number >= 0, got -2');
  const schema = catalogJsonSchema() as any;
  const price = schema.properties.sites.items.properties.models.items.properties.price;
  assert.deepEqual(price.properties.cacheWrite1hPer1M.type, 'number');
});

test('built-in cards: a tier prices output too, and the Anthropic API cards price cache reads and both kinds of cache writes', () => {
  for (const s of builtinSites()) {
    for (const m of s.models) {
      if (m.price.tier) assert.notEqual(m.price.tier.outputPer1M, undefined, `${s.id} ${m.canonical}`);
    }
  }
  const anthropic = builtinSites().find((s) => s.id === 'anthropic/us/managed')!;
  for (const m of anthropic.models) {
    const p = m.price;
    assert.ok(p.cachedInputPer1M !== undefined && p.cacheWritePer1M !== undefined && p.cacheWrite1hPer1M !== undefined, m.canonical);
    assert.notEqual(p.readOn, '2026-07-24', `${m.canonical}: the cache prices were not read from the 2026-07-24 mirror`);
  }
});

test('region groups: eu, us by name, never a global router', () => {
  assert.ok(regionAllowed('eu-central-1', ['eu']) && regionAllowed('europe-west4', ['eu']) && regionAllowed('swedencentral', ['eu']));
  // London and Zurich are in Europe, not the EU: "eu" keeps them out, "europe" takes them.
  for (const region of ['eu-west-2', 'eu-central-2', 'europe-west2', 'europe-west6', 'switzerlandnorth', 'uksouth']) {
    assert.equal(regionAllowed(region, ['eu']), false, region);
    assert.equal(regionAllowed(region, ['europe']), true, region);
  }
  assert.ok(regionAllowed('eu-west-1', ['europe']) && regionAllowed('europe-west10', ['eu']));
  assert.ok(!regionAllowed('us-east-1', ['europe']) && !regionAllowed('global', ['europe']));
  assert.ok(regionAllowed('ap-northeast-1', ['asia']) && !regionAllowed('ap-southeast-2', ['asia']));
  assert.ok(regionAllowed('eastus2', ['us']) && regionAllowed('us-central1', ['us']) && regionAllowed('us', ['us']));
  assert.ok(!regionAllowed('global', ['eu']) && !regionAllowed('global', ['us']) && !regionAllowed('useless', ['us']));
  assert.ok(regionAllowed('eu-helsinki', ['eu-helsinki']) && !regionAllowed('eu-helsinki', ['us']));
});

test('store: a file named after watching began (the editor sets it) is watched too', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-catalog-'));
  const path = join(dir, 'catalog.json');
  const store = new CatalogStore([], { debounceMs: 20 });
  try {
    store.watch();
    await writeFile(path, JSON.stringify({ sites: [] }));
    assert.equal(await store.setFiles([path]), null);
    const changed = new Promise<string | null>((resolve) => store.onChange((_c, error) => resolve(error)));
    await writeFile(path, JSON.stringify({ sites: [{ id: 'groq/eu-helsinki/lpu', disabled: true }] }));
    assert.equal(await changed, null);
    assert.equal(store.index.site('sim:groq/eu-helsinki/lpu')?.disabled, true);
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: reloads on change, keeps the previous catalog on error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-catalog-'));
  const path = join(dir, 'catalog.json');
  const store = new CatalogStore([path], { debounceMs: 20 });
  try {
    await writeFile(path, JSON.stringify({ sites: [{ id: 'groq/eu-helsinki/lpu', disabled: true }] }));
    assert.equal(await store.reload(), null);
    assert.equal(store.index.site('sim:groq/eu-helsinki/lpu')?.disabled, true);

    store.watch();
    const changed = new Promise<string | null>((resolve) => store.onChange((_c, error) => resolve(error)));
    await writeFile(path, JSON.stringify({ sites: [{ id: 'groq/eu-helsinki/lpu', concurrency: 0 }] }));
    const error = await changed;
    assert.match(error!, /catalog\.json: sites\[0\] "groq\/eu-helsinki\/lpu": concurrency must be an integer >= 1, got 0/);
    assert.equal(store.index.site('sim:groq/eu-helsinki/lpu')?.disabled, true, 'previous catalog stays in force');
    assert.equal(store.summary().error, error);

    const fixed = new Promise<string | null>((resolve) => store.onChange((_c, e) => resolve(e)));
    await writeFile(path, JSON.stringify({ sites: [] }));
    assert.equal(await fixed, null);
    assert.equal(store.index.site('sim:groq/eu-helsinki/lpu')?.disabled, undefined);
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: a reload that ends after a later one changes nothing, and resolves to the later one\'s outcome', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-catalog-'));
  // The first file is slow to read (30 MB, mostly the whitespace JSON allows), the second quick.
  const slow = join(dir, 'old.json');
  const quick = join(dir, 'new.json');
  await writeFile(slow, JSON.stringify({ sites: [{ id: 'groq/eu-helsinki/lpu', disabled: true }] }) + ' '.repeat(30 * 1024 * 1024));
  await writeFile(quick, JSON.stringify({ sites: [{ id: 'together/us/h100', disabled: true }] }));
  const store = new CatalogStore([slow]);
  try {
    const first = store.reload();
    // The setting now names the other file: its catalog is the one to hold, whichever read ends last.
    const second = store.setFiles([quick]);
    assert.equal(await second, null);
    assert.equal(await first, null);
    assert.equal(store.index.site('sim:together/us/h100')?.disabled, true);
    assert.equal(store.index.site('sim:groq/eu-helsinki/lpu')?.disabled, undefined, 'the earlier reload, ending last, put back the file no longer named');
    assert.deepEqual(store.catalog.files, [quick]);
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a key named __proto__ or constructor is refused like any unknown field, never read through the prototype', () => {
  const file = (price: string) => ({ name: 'p.json', text: `{ "sites": [ { "id": "groq/eu-helsinki/lpu", "models": [ { "canonical": "llama-3.3-70b", "price": ${price} } ] } ] }` });
  assert.throws(() => buildCatalog([file('{ "__proto__": { "requestFee": -5 } }')]), /models\[0\]\.price\.__proto__ is not a known field/);
  assert.throws(() => buildCatalog([file('{ "constructor": 1 }')]), /models\[0\]\.price\.constructor is not a known field/);
  // Nor is a region group found on Object.prototype.
  assert.equal(regionAllowed('us-east-1', ['constructor']), false);
  assert.equal(regionAllowed('us-east-1', ['toString', 'us']), true);
});

test('a price tier merges field by field like the rest of the card, and null removes it', () => {
  const pro = (sites: { id: string; models: { canonical: string; price: { tier?: unknown } }[] }[]) =>
    buildCatalog([file(sites)]).sites.find((s) => s.id === 'google/us-central1/tpu-v5e')!.models.find((m) => m.canonical === 'gemini-1.5-pro')!.price;
  assert.deepEqual(pro([{ id: 'google/us-central1/tpu-v5e', models: [{ canonical: 'gemini-1.5-pro', price: { tier: { outputPer1M: 12 } } }] }]).tier,
    { aboveInputTokens: 128_000, inputPer1M: 2.5, cachedInputPer1M: 0.625, outputPer1M: 12 });
  const untiered = pro([{ id: 'google/us-central1/tpu-v5e', models: [{ canonical: 'gemini-1.5-pro', price: { tier: null } }] }]);
  assert.ok(!('tier' in untiered));
  assert.equal(untiered.inputPer1M, 1.25, 'the rest of the card stays');
  // A card without a tier gets a whole one.
  assert.equal(refused([file([{ id: 'groq/eu-helsinki/lpu', models: [{ canonical: 'llama-3.3-70b', price: { tier: { outputPer1M: 1 } } }] }], 't.json')]),
    't.json: 2 problems:\n  sites[0] "groq/eu-helsinki/lpu": models[0].price.tier.aboveInputTokens is required for a new tier\n'
    + '  sites[0] "groq/eu-helsinki/lpu": models[0].price.tier.inputPer1M is required for a new tier');
});

test('a site the file leaves unusable is refused when the file is read, not when a request reaches it', () => {
  const mine = (over: Record<string, unknown>) => ({
    id: 'me/x/y', provider: 'openai-compatible', region: 'eu-central-1', location: 'x', hardware: 'a100',
    endpoint: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000/v1' },
    models: [{ canonical: 'mm', providerModel: 'mm', contextWindow: 8000, price: { inputPer1M: 0, outputPer1M: 0, readOn: '2026-11-01' }, ttftMs: 100, outputTokensPerSecond: 50 }],
    ...over,
  });
  assert.equal(refused([file([mine({ endpoint: {} })], 'k.json')]), 'k.json: sites[0] "me/x/y": endpoint.kind is required for a new site');
  assert.equal(refused([file([mine({ endpoint: { kind: 'openai-compatible' } })], 'u.json')]),
    'u.json: sites[0] "me/x/y": endpoint.baseUrl is required for a new site of kind openai-compatible');
  assert.equal(refused([file([mine({ endpoint: { kind: 'simulated' } })], 's.json')]),
    's.json: sites[0] "me/x/y": endpoint.kind "simulated" is for a simulated site: set "simulated": true and give it a simulation');
  assert.equal(refused([file([{ id: 'groq/eu-helsinki/lpu', simulated: true, simulation: null }], 'n.json')]),
    'n.json: sites[0] "groq/eu-helsinki/lpu": simulation is required for a simulated site');
  assert.equal(refused([file([{ id: 'groq/eu-helsinki/lpu', simulation: { errorRate: 1.5 } }], 'e.json')]),
    'e.json: sites[0] "groq/eu-helsinki/lpu": simulation.errorRate must be a number >= 0 and <= 1, got 1.5');
  // JSON's 1e400 reads as Infinity: say the number, not "null".
  assert.equal(refused([{ name: 'i.json', text: '{ "sites": [ { "id": "groq/eu-helsinki/lpu", "concurrency": 1e400 } ] }' }]),
    'i.json: sites[0] "groq/eu-helsinki/lpu": concurrency must be an integer >= 1, got Infinity');
});

test('entries are read in order: a site the file adds may be named again, and what an entry removes is new again after it', () => {
  const mine = {
    id: 'me/x/y', provider: 'openai-compatible', region: 'eu-central-1', location: 'x', hardware: 'a100',
    endpoint: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000/v1' },
    models: [{ canonical: 'mm', providerModel: 'mm', contextWindow: 8000, price: { inputPer1M: 0, outputPer1M: 0, readOn: '2026-11-01' }, ttftMs: 100, outputTokensPerSecond: 50 }],
  };
  // The schema, judging each entry against the built-in fleet alone, flags the second entry; the daemon reads it as an override.
  assert.equal(buildCatalog([file([mine, { id: 'me/x/y', disabled: true }])]).sites.find((s) => s.id === 'me/x/y')?.disabled, true);
  assert.equal(refused([file([{ id: 'groq/eu-helsinki/lpu', simulation: null }, { id: 'groq/eu-helsinki/lpu', simulation: { servers: 2 } }], 'r.json')]),
    'r.json: 2 problems:\n  sites[1] "groq/eu-helsinki/lpu": simulation.ttftBaseMs is required for a new simulation\n'
    + '  sites[1] "groq/eu-helsinki/lpu": simulation.outputTokensPerSecond is required for a new simulation');
});
