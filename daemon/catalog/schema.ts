// The user catalog file: `{ "sites": [ ... ] }`, each entry either a new site (complete) or an override
// of a known one by id (only the fields it changes). Which fields a new site needs is checked in merge.ts,
// because only there is it known whether the id is new. catalog.schema.json is generated from this file
// (`node --import tsx daemon/catalog/schema.ts > daemon/catalog/catalog.schema.json`; a test keeps them equal).

import type { EndpointKind, ProviderId } from '../protocol';
import { toJsonSchema, type Shape } from './shape';

const PROVIDERS: readonly ProviderId[] = [
  'simulated', 'openai', 'azure-openai', 'anthropic', 'google', 'groq', 'together', 'fireworks', 'mistral',
  'openrouter', 'bedrock', 'replicate', 'openai-compatible',
];
const ENDPOINT_KINDS: readonly EndpointKind[] = ['simulated', 'openai', 'azure-openai', 'anthropic', 'gemini', 'openai-compatible', 'bedrock'];

const usd = (description: string): Shape => ({ kind: 'number', min: 0, description });
const ms = (description: string): Shape => ({ kind: 'number', min: 0, description });
const positive = (description: string): Shape => ({ kind: 'number', exclusiveMin: 0, description });
const count = (description: string): Shape => ({ kind: 'number', integer: true, min: 1, description });
const text = (description: string): Shape => ({ kind: 'string', minLength: 1, description });

export const PRICE_SHAPE: Shape = {
  kind: 'object',
  description: 'Prices in USD as the provider publishes them.',
  props: {
    inputPer1M: usd('USD per 1M input tokens.'),
    cachedInputPer1M: usd('USD per 1M cached input tokens (cache read). Default: the input price.'),
    cacheWritePer1M: usd('USD per 1M tokens written to the prompt cache (Anthropic: the 5-minute cache). Default: the input price.'),
    cacheWrite1hPer1M: usd('USD per 1M tokens written to a 1-hour prompt cache (Anthropic, Claude on Bedrock). Default: twice the input price.'),
    outputPer1M: usd('USD per 1M output tokens.'),
    requestFee: usd('Flat fee per request, USD.'),
    egressPerGB: usd('Data transfer out, USD per GB received.'),
    tier: {
      kind: 'object',
      description: 'A higher price for the whole request once its input exceeds aboveInputTokens.',
      required: ['aboveInputTokens', 'inputPer1M'],
      props: {
        aboveInputTokens: count('Input tokens above which the tier applies.'),
        inputPer1M: usd('USD per 1M input tokens in the tier.'),
        cachedInputPer1M: usd('USD per 1M cached input tokens in the tier.'),
        outputPer1M: usd('USD per 1M output tokens in the tier.'),
      },
    },
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
  props: {
    servers: count('Requests served at once; the rest wait in a FIFO queue.'),
    ...SPEED_PROPS,
    jitter: { kind: 'number', min: 0, description: 'Sigma of the lognormal jitter on time to first token.' },
    errorRate: { kind: 'number', min: 0, description: 'Probability that a request fails before its first token (0..1).' },
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
  props: {
    id: { kind: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:\\-/]*$', description: 'Site id, e.g. groq/eu-helsinki/lpu. A known id overrides that site; a new id adds one.' },
    provider: { kind: 'string', enum: PROVIDERS },
    region: text('Region id, e.g. eu-central-1; policies may also name groups (eu, us, asia).'),
    location: text('Human location, e.g. "us-central1 · Council Bluffs, Iowa".'),
    hardware: text('Hardware, e.g. h100, tpu-v5e, groq-lpu.'),
    label: text('Display name.'),
    endpoint: {
      kind: 'object',
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

export function catalogJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://switchyard.invalid/catalog.schema.json',
    title: 'Switchyard catalog',
    ...toJsonSchema(CATALOG_FILE_SHAPE),
  };
}

if (process.argv[1] && /schema\.ts$/.test(process.argv[1])) {
  process.stdout.write(`${JSON.stringify(catalogJsonSchema(), null, 2)}\n`);
}
