// Test sites pointing at fake upstreams, and a helper that sends one request through a real adapter.

import type { Site, SiteModel } from '../../daemon/catalog/types';
import type { ChatMessage, EndpointKind, ProviderId, ToolCallDelta } from '../../daemon/protocol';
import type { AnswerOptions, SiteAdapter, SiteResult } from '../../daemon/providers/types';
import type { FakeUpstream } from './upstream';

const PROVIDER: Record<string, { provider: ProviderId; kind: EndpointKind; model: string; canonical: string }> = {
  openai: { provider: 'openai', kind: 'openai', model: 'gpt-4o-mini', canonical: 'gpt-4o-mini' },
  anthropic: { provider: 'anthropic', kind: 'anthropic', model: 'claude-3-5-haiku-latest', canonical: 'claude-3.5-haiku' },
  gemini: { provider: 'google', kind: 'gemini', model: 'gemini-2.0-flash', canonical: 'gemini-2.0-flash' },
};

export function testModel(format: string): SiteModel {
  const p = PROVIDER[format];
  return {
    canonical: p.canonical, providerModel: p.model, contextWindow: 128_000,
    price: { inputPer1M: 1, outputPer1M: 2, cachedInputPer1M: 0.5, readOn: '2026-01-01' }, ttftMs: 100, outputTokensPerSecond: 100,
  };
}

export function testSite(fake: FakeUpstream, extra: Omit<Partial<Site>, 'endpoint'> & { endpoint?: Partial<Site['endpoint']>; kind?: EndpointKind; provider?: ProviderId } = {}): Site {
  const p = PROVIDER[fake.format];
  const { endpoint, kind, provider, ...rest } = extra;
  return {
    id: `fake-${fake.format}/local/${fake.port}`, provider: provider ?? p.provider, region: 'local', location: '127.0.0.1', hardware: 'fake', simulated: false,
    endpoint: { kind: kind ?? p.kind, baseUrl: fake.baseUrl, ...endpoint },
    models: [testModel(fake.format)],
    ...rest,
  };
}

export interface Sent extends SiteResult {
  deltas: string[];
  toolCallDeltas: ToolCallDelta[];
}

export interface SendOptions extends AnswerOptions {
  signal?: AbortSignal;
  apiKey?: string;
  maxTokens?: number;
  onDelta?: (t: string) => void;
  content?: string;
  /** The whole conversation, instead of a system and a user message. */
  messages?: ChatMessage[];
}

export async function send(adapter: SiteAdapter, site: Site, options: SendOptions = {}): Promise<Sent> {
  const deltas: string[] = [];
  const toolCallDeltas: ToolCallDelta[] = [];
  const { signal, apiKey, maxTokens, onDelta, content, messages, ...answer } = options;
  const result = await adapter.send({
    ...answer,
    site, model: site.models[0], maxTokens: maxTokens ?? 256,
    messages: messages ?? [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: content ?? 'Say hello.' }],
    signal: signal ?? new AbortController().signal,
    apiKey: 'apiKey' in options ? apiKey : 'sk-test-0123456789abcdefghij',
    onDelta: (t) => {
      deltas.push(t);
      onDelta?.(t);
    },
    onToolCall: (d) => void toolCallDeltas.push(d),
  });
  return { ...result, deltas, toolCallDeltas };
}
