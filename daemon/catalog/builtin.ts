// The built-in fleet: real sites with the public prices of shared/data/fleet-reference.md, each with the
// SimulationSpec its simulated twin runs on (see twins.ts). Prices carry the date they were read and
// their caveats; speeds are the reference's medians where it gives them and labelled estimates where not.
//
// Cached-input, cache-write and tier prices the reference lacks come from the providers' own pages where
// one could be read; such a card names that page as its source and carries the page's own date (or, for
// an undated copy, the day it was read), never the mirror's. Where no source gave a figure the card
// leaves it out and the meter's defaults apply (docs/meter.md): cached reads and 5-minute writes at the
// input price, 1-hour writes at twice it.
//
// Simulated servers are per-account concurrency, not the provider's whole cluster: what a single
// developer or small team actually gets before requests queue or hit 429. They are sized so that the
// one-hour Azure conversation trace (about 5.4 requests/s) loads the fleet: no single cheap site can
// take all of it, and 4x the trace overloads the whole fleet.

import type { PriceCard } from '../protocol';
import type { SimulationSpec, Site, SiteModel } from './types';

const MIRROR = 'public price mirror (fleet-reference.md)';
const READ_ON = '2026-07-24';

// Stored copies of the providers' pages, read on 2026-12-07. Neither copy carries a date of its own, so
// the cards that use them say they were read that day; the notes say how old the copies look.
const PAGES_READ_ON = '2026-12-07';
const ANTHROPIC_PAGE: Partial<PriceCard> = { readOn: PAGES_READ_ON, source: 'Anthropic pricing page (docs.anthropic.com/en/docs/about-claude/pricing)' };
const ANTHROPIC_NOTE = 'undated copy of the page (its newest model is Claude Opus 4.1); input and output match the 2026-07-24 mirror';
const GEMINI_PAGE: Partial<PriceCard> = { readOn: PAGES_READ_ON, source: 'Gemini Developer API pricing page (ai.google.dev/gemini-api/docs/pricing)' };
// The site is reached through the Gemini API (endpoint kind gemini), whose prices these are.
const GEMINI_NOTE = 'undated copy of the page (it lists Gemini 2.5 Flash Preview 05-20); the page warns Vertex AI prices may differ; '
  + 'context-cache storage, billed per hour apart from requests, is not metered';

function price(inputPer1M: number, outputPer1M: number, extra: Partial<PriceCard> = {}): PriceCard {
  return { inputPer1M, outputPer1M, readOn: READ_ON, source: MIRROR, ...extra };
}

/** AWS internet egress after the free 100 GB; applied where the site bills transfer apart from tokens. */
const AWS_EGRESS = 0.09;

interface ModelFigures {
  ttftMs: number;
  ttftPerInputTokenMs: number;
  outputTokensPerSecond: number;
  maxOutputTokens?: number;
  images?: boolean;
}

function model(canonical: string, providerModel: string, contextWindow: number, card: PriceCard, f: ModelFigures): SiteModel {
  return { canonical, providerModel, contextWindow, price: card, ...f };
}

/** The twin simulates each model with its catalog figures, so an estimate and its simulation agree. */
function simulation(servers: number, models: SiteModel[], extra: Partial<SimulationSpec> = {}): SimulationSpec {
  const [first] = models;
  const perModel: NonNullable<SimulationSpec['models']> = {};
  for (const m of models.slice(1)) {
    perModel[m.canonical] = { ttftBaseMs: m.ttftMs, ttftPerInputTokenMs: m.ttftPerInputTokenMs, outputTokensPerSecond: m.outputTokensPerSecond };
  }
  return {
    servers,
    ttftBaseMs: first.ttftMs,
    ttftPerInputTokenMs: first.ttftPerInputTokenMs ?? 0,
    jitter: 0.15,
    outputTokensPerSecond: first.outputTokensPerSecond,
    errorRate: 0.002,
    ...(models.length > 1 ? { models: perModel } : {}),
    ...extra,
  };
}

// Speed figures. H100-class serving of a 70B model: the reference's model median (94.5 tok/s, 0.65 s)
// split into a base and a prefill slope; Groq from the (unverified) provider-level blog figures.
const LLAMA70_H100 = { ttftMs: 380, ttftPerInputTokenMs: 0.09, outputTokensPerSecond: 95 };
const LLAMA70_TURBO = { ttftMs: 300, ttftPerInputTokenMs: 0.07, outputTokensPerSecond: 120 };
const LLAMA70_LPU = { ttftMs: 150, ttftPerInputTokenMs: 0.02, outputTokensPerSecond: 300 };
const LLAMA8_H100 = { ttftMs: 300, ttftPerInputTokenMs: 0.03, outputTokensPerSecond: 163 };
const LLAMA8_LPU = { ttftMs: 100, ttftPerInputTokenMs: 0.01, outputTokensPerSecond: 750 };
// Longest answers (maxOutputTokens) and image input, which fleet-reference.md does not give: as the
// providers' model documentation states them, 16,384 tokens for GPT-4o and GPT-4o mini, 8,192 for Claude
// 3.5 Sonnet and Haiku and for Gemini 1.5 and 2.0; all of them see images but Claude 3.5 Haiku (text
// only when released). The Llama hosts publish no common output figure; the Llama 3 models are text only.
const GPT4O = { ttftMs: 400, ttftPerInputTokenMs: 0.04, outputTokensPerSecond: 209, maxOutputTokens: 16_384, images: true };
const GPT4O_MINI = { ttftMs: 550, ttftPerInputTokenMs: 0.03, outputTokensPerSecond: 74, maxOutputTokens: 16_384, images: true };
const CLAUDE_SONNET = { ttftMs: 700, ttftPerInputTokenMs: 0.05, outputTokensPerSecond: 60, maxOutputTokens: 8_192, images: true };
const CLAUDE_HAIKU = { ttftMs: 500, ttftPerInputTokenMs: 0.03, outputTokensPerSecond: 65, maxOutputTokens: 8_192 };
const GEMINI_FLASH = { ttftMs: 350, ttftPerInputTokenMs: 0.02, outputTokensPerSecond: 180, maxOutputTokens: 8_192, images: true };
const GEMINI_PRO = { ttftMs: 700, ttftPerInputTokenMs: 0.04, outputTokensPerSecond: 70, maxOutputTokens: 8_192, images: true };

const SPEED_NOTE = 'speed figures are estimates from third-party medians, not provider SLAs';

function site(s: Omit<Site, 'simulated' | 'simulation'> & { servers: number; sim?: Partial<SimulationSpec> }): Site {
  const { servers, sim, ...rest } = s;
  return { ...rest, simulated: false, simulation: simulation(servers, s.models, sim) };
}

/** The default fleet as real sites; each becomes a real-backed site plus its simulated twin. */
export function builtinSites(): Site[] {
  const bedrockLlama = (region: string): SiteModel[] => [
    model('llama-3.3-70b', 'meta.llama3-3-70b-instruct-v1:0', 128_000,
      price(0.72, 0.72, {
        egressPerGB: AWS_EGRESS,
        ...(region === 'eu-central-1' ? { note: 'Bedrock lists Llama 3.3 70B in US regions; the Frankfurt offer is an assumption of the default fleet at the US price' } : {}),
      }),
      LLAMA70_H100),
    model('llama-3.1-8b', 'meta.llama3-1-8b-instruct-v1:0', 128_000, price(0.22, 0.22, { egressPerGB: AWS_EGRESS }), LLAMA8_H100),
  ];
  // Claude on Bedrock: the reference gives cache prices for Sonnet only, and no source read gave a
  // 1-hour write price for it, so 1-hour writes take the meter's default (twice input, as Anthropic's
  // 6.00). For Haiku no source gave cache prices: its cache reads and writes are billed as input.
  const bedrockClaude: SiteModel[] = [
    model('claude-3.5-sonnet', 'anthropic.claude-3-5-sonnet-20241022-v2:0', 200_000,
      price(3, 15, { cachedInputPer1M: 0.3, cacheWritePer1M: 3.75, egressPerGB: AWS_EGRESS }), CLAUDE_SONNET),
    model('claude-3.5-haiku', 'anthropic.claude-3-5-haiku-20241022-v1:0', 200_000, price(0.8, 4, { egressPerGB: AWS_EGRESS }), CLAUDE_HAIKU),
  ];
  const groqModels: SiteModel[] = [
    model('llama-3.3-70b', 'llama-3.3-70b-versatile', 128_000, price(0.59, 0.79, { note: SPEED_NOTE }), LLAMA70_LPU),
    model('llama-3.1-8b', 'llama-3.1-8b-instant', 128_000, price(0.05, 0.08), LLAMA8_LPU),
  ];
  return [
    site({
      id: 'google/us-central1/tpu-v5e', provider: 'google', region: 'us-central1', location: 'us-central1 · Council Bluffs, Iowa',
      hardware: 'tpu-v5e', label: 'Vertex AI Gemini on TPU v5e', endpoint: { kind: 'gemini' }, servers: 12,
      models: [
        model('gemini-2.0-flash', 'gemini-2.0-flash', 1_000_000, price(0.1, 0.4, { cachedInputPer1M: 0.025, ...GEMINI_PAGE, note: GEMINI_NOTE }), GEMINI_FLASH),
        model('gemini-1.5-pro', 'gemini-1.5-pro', 2_000_000,
          price(1.25, 5, {
            cachedInputPer1M: 0.3125,
            tier: { aboveInputTokens: 128_000, inputPer1M: 2.5, cachedInputPer1M: 0.625, outputPer1M: 10 },
            ...GEMINI_PAGE,
            note: `${GEMINI_NOTE}; the 2.50 tier input is also the mirror's Feb 2025 entry; the serving hardware is not published, TPU v5e is illustrative`,
          }),
          GEMINI_PRO),
        model('gemini-1.5-flash', 'gemini-1.5-flash', 1_000_000,
          price(0.075, 0.3, { cachedInputPer1M: 0.01875, tier: { aboveInputTokens: 128_000, inputPer1M: 0.15, cachedInputPer1M: 0.0375, outputPer1M: 0.6 }, ...GEMINI_PAGE, note: GEMINI_NOTE }),
          GEMINI_FLASH),
      ],
    }),
    site({
      id: 'bedrock/eu-central-1/h100', provider: 'bedrock', region: 'eu-central-1', location: 'eu-central-1 · Frankfurt, Germany',
      hardware: 'h100', label: 'AWS Bedrock Frankfurt (H100-class, hardware not published)', endpoint: { kind: 'bedrock' }, servers: 8,
      models: [...bedrockLlama('eu-central-1'), ...bedrockClaude],
    }),
    site({
      id: 'bedrock/us-east-1/h100', provider: 'bedrock', region: 'us-east-1', location: 'us-east-1 · Northern Virginia',
      hardware: 'h100', label: 'AWS Bedrock N. Virginia (H100-class, hardware not published)', endpoint: { kind: 'bedrock' }, servers: 10,
      models: [...bedrockLlama('us-east-1'), ...bedrockClaude],
    }),
    site({
      id: 'groq/eu-helsinki/lpu', provider: 'groq', region: 'eu-helsinki', location: 'Helsinki, Finland (Groq with Equinix)',
      hardware: 'groq-lpu', label: 'GroqCloud Helsinki', endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.groq.com/openai/v1' },
      servers: 4, models: groqModels,
    }),
    site({
      id: 'groq/eu-amsterdam/lpu', provider: 'groq', region: 'eu-amsterdam', location: 'Amsterdam, Netherlands (illustrative)',
      hardware: 'groq-lpu', label: 'Groq Amsterdam (illustrative: no public Groq site exists there)',
      endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.groq.com/openai/v1' }, servers: 4, disabled: true,
      models: groqModels.map((m) => ({ ...m, price: { ...m.price, note: 'illustrative site: fleet-reference found no public Groq site in Amsterdam' } })),
    }),
    site({
      id: 'together/us/h100', provider: 'together', region: 'us', location: 'United States (provider-managed)',
      hardware: 'h100', label: 'Together.ai serverless (Turbo)', endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.together.xyz/v1' },
      servers: 8,
      models: [
        model('llama-3.3-70b', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', 128_000, price(0.88, 0.88, { note: 'Turbo (FP8) variant' }), LLAMA70_TURBO),
        model('llama-3.1-8b', 'meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo', 128_000, price(0.18, 0.18, { note: 'Turbo (FP8) variant' }), LLAMA8_H100),
      ],
    }),
    site({
      id: 'fireworks/us/h100', provider: 'fireworks', region: 'us', location: 'United States (provider-managed)',
      hardware: 'h100', label: 'Fireworks serverless', endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.fireworks.ai/inference/v1' },
      servers: 8,
      models: [
        model('llama-3.3-70b', 'accounts/fireworks/models/llama-v3p3-70b-instruct', 128_000, price(0.9, 0.9), { ...LLAMA70_TURBO, outputTokensPerSecond: 110 }),
        model('llama-3.1-8b', 'accounts/fireworks/models/llama-v3p1-8b-instruct', 128_000, price(0.1, 0.1), LLAMA8_H100),
      ],
    }),
    site({
      id: 'openrouter/global/mixed', provider: 'openrouter', region: 'global', location: 'routed by OpenRouter (location varies)',
      hardware: 'mixed', label: 'OpenRouter (cheapest routed provider)', endpoint: { kind: 'openai-compatible', baseUrl: 'https://openrouter.ai/api/v1' },
      servers: 6,
      models: [
        model('llama-3.3-70b', 'meta-llama/llama-3.3-70b-instruct', 128_000,
          price(0.13, 0.4, { readOn: '2026-08-01', note: 'snapshot of the cheapest routed provider; OpenRouter picks the upstream, so speed and location vary' }),
          { ttftMs: 700, ttftPerInputTokenMs: 0.15, outputTokensPerSecond: 60 }),
      ],
    }),
    site({
      id: 'replicate/us/a100', provider: 'replicate', region: 'us', location: 'United States (provider-managed)',
      hardware: 'a100', label: 'Replicate (hardware per model, A100 assumed)', endpoint: { kind: 'openai-compatible' }, servers: 4,
      models: [
        model('llama-3-70b', 'meta/meta-llama-3-70b-instruct', 8_192, price(0.65, 2.75), { ...LLAMA70_H100, outputTokensPerSecond: 40 }),
        model('llama-3-8b', 'meta/meta-llama-3-8b-instruct', 8_192, price(0.05, 0.25), LLAMA8_H100),
      ],
    }),
    site({
      id: 'azure-openai/swedencentral/managed', provider: 'azure-openai', region: 'swedencentral', location: 'swedencentral · Gävle, Sweden (EU data zone)',
      hardware: 'managed', label: 'Azure OpenAI, EU data zone', endpoint: { kind: 'azure-openai' }, servers: 10,
      models: [
        model('gpt-4o', 'gpt-4o', 128_000, price(2.75, 11, { note: 'data zone price; global deployments at OpenAI prices' }), GPT4O),
        model('gpt-4o-mini', 'gpt-4o-mini', 128_000, price(0.165, 0.66, { note: 'data zone price' }), GPT4O_MINI),
      ],
    }),
    site({
      id: 'azure-openai/eastus/managed', provider: 'azure-openai', region: 'eastus', location: 'eastus · Virginia (US data zone)',
      hardware: 'managed', label: 'Azure OpenAI, US data zone', endpoint: { kind: 'azure-openai' }, servers: 10,
      models: [
        model('gpt-4o', 'gpt-4o', 128_000, price(2.75, 11, { note: 'data zone price; global deployments at OpenAI prices' }), GPT4O),
        model('gpt-4o-mini', 'gpt-4o-mini', 128_000, price(0.165, 0.66, { note: 'data zone price' }), GPT4O_MINI),
      ],
    }),
    site({
      id: 'openai/us/managed', provider: 'openai', region: 'us', location: 'United States (OpenAI API)',
      hardware: 'managed', label: 'OpenAI API', endpoint: { kind: 'openai' }, servers: 16,
      models: [
        model('gpt-4o', 'gpt-4o', 128_000, price(2.5, 10, { cachedInputPer1M: 1.25 }), GPT4O),
        model('gpt-4o-mini', 'gpt-4o-mini', 128_000,
          price(0.15, 0.6, {
            cachedInputPer1M: 0.075, readOn: '2024-10-01', source: 'OpenAI, "Prompt Caching in the API" (openai.com/index/api-prompt-caching)',
            note: 'input and output match the 2026-07-24 mirror too',
          }),
          GPT4O_MINI),
      ],
    }),
    site({
      id: 'anthropic/us/managed', provider: 'anthropic', region: 'us', location: 'United States (Anthropic API)',
      hardware: 'managed', label: 'Anthropic API', endpoint: { kind: 'anthropic' }, servers: 8,
      models: [
        model('claude-3.5-sonnet', 'claude-3-5-sonnet-latest', 200_000,
          price(3, 15, { cachedInputPer1M: 0.3, cacheWritePer1M: 3.75, cacheWrite1hPer1M: 6, ...ANTHROPIC_PAGE, note: `${ANTHROPIC_NOTE}; the page marks Sonnet 3.5 deprecated` }),
          CLAUDE_SONNET),
        model('claude-3.5-haiku', 'claude-3-5-haiku-latest', 200_000,
          price(0.8, 4, { cachedInputPer1M: 0.08, cacheWritePer1M: 1, cacheWrite1hPer1M: 1.6, ...ANTHROPIC_PAGE, note: ANTHROPIC_NOTE }),
          CLAUDE_HAIKU),
      ],
    }),
  ];
}
