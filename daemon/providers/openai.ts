// OpenAI chat completions and everything that speaks it: OpenAI, Azure OpenAI, Groq, Together, Fireworks,
// Mistral, OpenRouter and any OpenAI-compatible endpoint the user names (vLLM, Ollama, llama.cpp, a
// company proxy). Streaming asks for usage with stream_options.include_usage; usage is read from
// whichever chunk carries it (the final one with empty choices, or the last content chunk where a
// compatible server puts it there) and mapped with the meter's fromOpenAI.

import { createAzure } from '@ai-sdk/azure';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { fromOpenAI, type OpenAIUsage } from '../meter/usage';
import { finishWith, type RawTracker, type WireFamily } from './wire';

interface ChatChunk {
  choices?: { finish_reason?: string | null }[];
  usage?: OpenAIUsage | null;
  error?: { message?: string; type?: string; code?: unknown };
}

export function openAITracker(): RawTracker {
  const tracker: RawTracker = {
    usage: null,
    finished: false,
    length: false,
    chunk(raw) {
      const c = raw as ChatChunk | null;
      if (!c || typeof c !== 'object') return;
      if (c.usage && typeof c.usage === 'object') tracker.usage = fromOpenAI(c.usage);
      for (const choice of c.choices ?? []) finishWith(tracker, choice?.finish_reason, 'length');
    },
    body(raw) {
      tracker.chunk(raw);
      // A JSON answer is complete by construction; some servers leave finish_reason out.
      if ((raw as ChatChunk | null)?.choices?.length) tracker.finished = true;
    },
  };
  return tracker;
}

/** Mistral sends usage on its last chunk unasked; the others need stream_options.include_usage. */
const ASKS_FOR_USAGE = (provider: string) => provider !== 'mistral';

export const openAIFamily: WireFamily = {
  tracker: openAITracker,
  model(site, model, apiKey, fetch) {
    const kind = site.endpoint.kind;
    if (kind === 'openai') {
      return createOpenAI({ baseURL: site.endpoint.baseUrl, apiKey: apiKey ?? '', fetch }).chat(model.providerModel);
    }
    if (kind === 'azure-openai') {
      if (!site.endpoint.baseUrl) throw new Error(`site ${site.id}: azure-openai needs endpoint.baseUrl (https://<resource>.openai.azure.com/openai)`);
      return createAzure({ baseURL: site.endpoint.baseUrl, apiKey: apiKey ?? '', fetch }).chat(model.providerModel);
    }
    if (!site.endpoint.baseUrl) throw new Error(`site ${site.id}: an openai-compatible endpoint needs endpoint.baseUrl`);
    return createOpenAICompatible({
      name: site.provider,
      baseURL: site.endpoint.baseUrl,
      ...(apiKey ? { apiKey } : {}),
      includeUsage: ASKS_FOR_USAGE(site.provider),
      fetch,
    }).chatModel(model.providerModel);
  },
};
