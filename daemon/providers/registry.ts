// Real adapters by endpoint kind. Simulated sites are built by ./simulated; the adapter pool asks this
// registry for every other site. Adapters are stateless between requests: keys arrive per request.

import type { EndpointKind } from '../protocol';
import type { Site } from '../catalog/types';
import { anthropicFamily } from './anthropic';
import { bedrockFamily } from './bedrock';
import { geminiFamily } from './gemini';
import { createOpenAIAdapter } from './openai';
import type { SiteAdapter } from './types';
import { createWireAdapter, type AdapterOptions, type WireFamily } from './wire';

/** Families reached through the AI SDK; the OpenAI wire has its own client (./openai). */
const FAMILIES: Record<Exclude<EndpointKind, 'simulated' | 'openai' | 'azure-openai' | 'openai-compatible'>, WireFamily> = {
  anthropic: anthropicFamily,
  gemini: geminiFamily,
  bedrock: bedrockFamily,
};

export function createAdapter(site: Site, options: AdapterOptions = {}): SiteAdapter {
  const kind = site.endpoint.kind;
  if (kind === 'simulated') throw new Error(`site ${site.id} is simulated: build it with createSimulatedAdapter`);
  const resolved: AdapterOptions = { stream: site.endpoint.stream ?? true, idleTimeoutMs: site.endpoint.idleTimeoutMs, ...options };
  if (kind === 'openai' || kind === 'azure-openai' || kind === 'openai-compatible') return createOpenAIAdapter(site, resolved);
  const family = FAMILIES[kind];
  if (!family) throw new Error(`site ${site.id}: no adapter for endpoint kind "${kind as string}"`);
  return createWireAdapter(family, resolved);
}
