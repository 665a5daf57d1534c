// The user catalog file: `{ "sites": [ ... ] }`, each entry either a new site (complete) or an override
// of a known one by id (only the fields it changes). What a new site, model, tier or simulation needs is
// declared here (`create`); merge.ts checks it where it knows what is new, and the published schema
// knows it from the built-in fleet. catalog.schema.json is generated from this file
// (`node --import tsx daemon/catalog/schema.ts > daemon/catalog/catalog.schema.json`; a test keeps them equal).

import type { EndpointKind, ProviderId } from '../protocol';
import { builtinSites } from './builtin';
import { toCreateJsonSchema, toJsonSchema, type Shape } from './shape';
import type { Site } from './types';

const PROVIDERS: readonly ProviderId[] = [
  'simulated', 'openai', 'azure-openai', 'anthropic', 'google', 'groq', 'together', 'fireworks', 'mistral',
  'openrouter', 'bedrock', 'replicate', 'openai-compatible',
];
const ENDPOINT_KINDS: readonly EndpointKind[] = ['simulated', 'openai', 'azure-openai', 'anthropic', 'gemini', 'openai-compatible', 'bedrock'];
/** Kinds with no address of their own: a new site of one needs endpoint.baseUrl. */
export const NEEDS_BASE_URL: readonly EndpointKind[] = ['openai-compatible', 'azure-openai'];

const usd = (description: string): Shape => ({ kind: 'number', min: 0, description });
const ms = (description: string): Shape => ({ kind: 'number', min: 0, description });
const positive = (description: string): Shape => ({ kind: 'number', exclusiveMin: 0, description });
const count = (description: string): Shape => ({ kind: 'number', integer: true, min: 1, description });
const text = (description: string): Shape => ({ kind: 'string', minLength: 1, description });

export const TIER_SHAPE: Shape = {
  kind: 'object',
  description: 'A higher price for the whole request once its input exceeds aboveInputTokens. null removes it.',
  create: ['aboveInputTokens', 'inputPer1M'],
  props: {
    aboveInputTokens: count('Input tokens above which the tier applies.'),
    inputPer1M: usd('USD per 1M input tokens in the tier.'),
    cachedInputPer1M: usd('USD per 1M cached input tokens in the tier.'),
    outputPer1M: usd('USD per 1M output tokens in the tier.'),
  },
};

export const PRICE_SHAPE: Shape = {
  kind: 'object',
  description: 'Prices in USD as the provider publishes them.',
  create: ['inputPer1M', 'outputPer1M', 'readOn'],
  props: {
    inputPer1M: usd('USD per 1M input tokens.'),
    cachedInputPer1M: usd('USD per 1M cached input tokens (cache read). Default: the input price.'),
    cacheWritePer1M: usd('USD per 1M tokens written to the prompt cache (Anthropic: the 5-minute cache). Default: the input price.'),
    cacheWrite1hPer1M: usd('USD per 1M tokens written to a 1-hour prompt cache (Anthropic, Claude on Bedrock). Default: twice the input price.'),
    outputPer1M: usd('USD per 1M output tokens.'),
    requestFee: usd('Flat fee per request, USD.'),
    egressPerGB: usd('Data transfer out, USD per GB received.'),
    tier: { kind: 'nullable', inner: TIER_SHAPE },
    readOn: { kind: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'ISO date the price was read (YYYY-MM-DD).' },
    source: text('Where the price was read.'),
    note: { kind: 'string', description: 'Caveats.' },
  },
};

const SPEED_PROPS = {
  ttftBaseMs: ms('Time to first token for an empty prompt, ms.'),
  ttftPerInputTokenMs: ms('Added time to first token per input token, ms.'),
  outputTokensPerSecond: positive('Output speed, tokens per second.'),
} satisfies Record<string, Shape>;

export const SIMULATION_SHAPE: Shape = {
  kind: 'object',
  description: 'How the simulated twin behaves. null removes the twin.',
  create: ['servers', 'ttftBaseMs', 'outputTokensPerSecond'],
  props: {
    servers: count('Requests served at once; the rest wait in a FIFO queue.'),
    ...SPEED_PROPS,
    jitter: { kind: 'number', min: 0, description: 'Sigma of the lognormal jitter on time to first token.' },
    errorRate: { kind: 'number', min: 0, max: 1, description: 'Probability that a request fails before its first token (0..1).' },
    outages: {
      kind: 'array',
      description: 'Windows, ms since the simulation started, when every request fails with 503.',
      items: { kind: 'object', required: ['startMs', 'endMs'], props: { startMs: ms('Start, ms.'), endMs: ms('End, ms.') } },
    },
    models: { kind: 'record', description: 'Per canonical model figures that differ from the site-wide ones.', values: { kind: 'object', props: SPEED_PROPS } },
  },
};

export const MODEL_SHAPE: Shape = {
  kind: 'object',
  required: ['canonical'],
  create: ['providerModel', 'contextWindow', 'price', 'ttftMs', 'outputTokensPerSecond'],
  props: {
    canonical: { kind: 'string', pattern: '^[a-z0-9][a-z0-9.\\-]*$', description: 'Canonical model id shared across sites, e.g. llama-3.3-70b.' },
    providerModel: text('The model name the provider API expects.'),
    contextWindow: count('Context window, tokens.'),
    images: { kind: 'boolean', description: 'true: the model sees images shown with user messages (vision). Default false.' },
    maxOutputTokens: count('Longest answer the model gives here, tokens. A request without max_tokens reserves its budget for this many output tokens (default: the context window left after the prompt).'),
    price: PRICE_SHAPE,
    ttftMs: ms('Catalog time to first token for an empty prompt, ms (used until telemetry has samples).'),
    ttftPerInputTokenMs: ms('Added time to first token per input token, ms.'),
    outputTokensPerSecond: positive('Catalog output speed, tokens per second.'),
  },
};

export const SITE_SHAPE: Shape = {
  kind: 'object',
  required: ['id'],
  create: ['provider', 'region', 'location', 'hardware', 'endpoint', 'models'],
  props: {
    id: {
      kind: 'string',
      // Not a twin's id (sim:...): a twin follows its real site.
      pattern: '^(?!sim:)[A-Za-z0-9][A-Za-z0-9._:\\-/]*$',
      patternMessage: 'be a real site id (letters, digits and ._:-/), not a simulated twin\'s (sim:...): the twin follows its real site, and "simulation": null removes it',
      description: 'Site id, e.g. groq/eu-helsinki/lpu. A known id overrides that site; a new id adds one.',
    },
    provider: { kind: 'string', enum: PROVIDERS },
    region: text('Region id, e.g. eu-central-1; policies may also name groups (eu, europe, us, asia).'),
    location: text('Human location, e.g. "us-central1 · Council Bluffs, Iowa".'),
    hardware: text('Hardware, e.g. h100, tpu-v5e, groq-lpu.'),
    label: text('Display name.'),
    endpoint: {
      kind: 'object',
      create: ['kind'],
      props: {
        kind: { kind: 'string', enum: ENDPOINT_KINDS },
        baseUrl: { kind: 'string', pattern: '^https?://' },
        stream: { kind: 'boolean', description: 'false: ask for one JSON answer instead of a stream. Default true.' },
        idleTimeoutMs: count('No bytes from the upstream for this long (ms): the request is stalled and fails over. Default 120000.'),
        tools: { kind: 'boolean', description: 'false: this server cannot call tools (e.g. started without a tool parser); requests that define tools go to other sites. Default true.' },
      },
    },
    models: { kind: 'array', items: MODEL_SHAPE, description: 'Models offered; an entry with a known canonical id overrides that model.' },
    disabled: { kind: 'boolean', description: 'true: never placed.' },
    simulated: { kind: 'boolean', description: 'true: a purely simulated site (no real-backed variant).' },
    simulation: { kind: 'nullable', inner: SIMULATION_SHAPE },
    concurrency: count('Requests the site serves at once for this account.'),
  },
};

export const CATALOG_FILE_SHAPE: Shape = {
  kind: 'object',
  required: ['sites'],
  props: {
    $schema: { kind: 'string' },
    sites: { kind: 'array', items: SITE_SHAPE },
  },
};

/**
 * What the shapes alone cannot say of a site entry, as JSON Schema: the schema cannot see which sites
 * are known, so it knows the built-in fleet. An entry whose id is not built in is a new site and must be
 * complete; at a built-in site, a model it does not offer, a tier its card lacks and a simulation it
 * lacks are new too. merge.ts checks the same against the definitions the file applies to.
 */
function siteRules(builtin: readonly Site[]): Record<string, unknown>[] {
  const isSimulated = { properties: { simulated: { const: true } }, required: ['simulated'] };
  const newSite = {
    allOf: [
      toCreateJsonSchema(SITE_SHAPE),
      { properties: { models: { minItems: 1 } } },
      {
        if: isSimulated,
        then: { required: ['simulation'] },
        else: { properties: { endpoint: { if: { properties: { kind: { enum: NEEDS_BASE_URL } }, required: ['kind'] }, then: { required: ['baseUrl'] } } } },
      },
    ],
  };
  const atBuiltin = (site: Site) => {
    const untiered = site.models.filter((m) => !m.price.tier).map((m) => m.canonical);
    const model = {
      if: { properties: { canonical: { enum: site.models.map((m) => m.canonical) } } },
      then: untiered.length ? { if: { properties: { canonical: { enum: untiered } } }, then: { properties: { price: { properties: { tier: toCreateJsonSchema(TIER_SHAPE) } } } } } : {},
      else: toCreateJsonSchema(MODEL_SHAPE),
    };
    return {
      if: { properties: { id: { const: site.id } } },
      then: { properties: { models: { items: model }, ...(site.simulation ? {} : { simulation: toCreateJsonSchema(SIMULATION_SHAPE) }) } },
    };
  };
  return [
    { if: { not: { properties: { id: { enum: builtin.map((s) => s.id) } } } }, then: newSite },
    ...builtin.map(atBuiltin),
    // A simulated site runs on its simulation; a real one is reached through a real endpoint and provider.
    {
      if: isSimulated,
      then: { properties: { simulation: { type: 'object' } } },
      else: { properties: { endpoint: { properties: { kind: { not: { const: 'simulated' } } } }, provider: { not: { const: 'simulated' } } } },
    },
  ];
}

export function catalogJsonSchema(builtin: readonly Site[] = builtinSites()): Record<string, unknown> {
  const schema = toJsonSchema(CATALOG_FILE_SHAPE) as { properties: { sites: { items: Record<string, unknown> } } };
  schema.properties.sites.items.allOf = siteRules(builtin);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://switchyard.invalid/catalog.schema.json',
    title: 'Switchyard catalog',
    ...schema,
  };
}

if (process.argv[1] && /schema\.ts$/.test(process.argv[1])) {
  process.stdout.write(`${JSON.stringify(catalogJsonSchema(), null, 2)}\n`);
}
