// Google Gemini (generateContent / streamGenerateContent?alt=sse) through @ai-sdk/google. Every streamed
// chunk carries the running usageMetadata: the latest is mapped with the meter's fromGemini. A
// candidate's finishReason is the proper finish (MAX_TOKENS: the length limit).

import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { fromGemini, type GeminiUsageMetadata } from '../meter/usage';
import { finishWith, type RawTracker, type WireFamily } from './wire';

interface GeminiChunk {
  candidates?: { finishReason?: string }[];
  usageMetadata?: GeminiUsageMetadata;
  error?: { code?: number; message?: string; status?: string };
}

export function geminiTracker(): RawTracker {
  const tracker: RawTracker = {
    usage: null,
    finished: false,
    length: false,
    chunk(raw) {
      const c = raw as GeminiChunk | null;
      if (!c || typeof c !== 'object') return;
      if (c.usageMetadata) tracker.usage = fromGemini(c.usageMetadata);
      for (const candidate of c.candidates ?? []) finishWith(tracker, candidate?.finishReason, 'MAX_TOKENS');
      if (c.error && !tracker.error) {
        const status = typeof c.error.code === 'number' ? c.error.code : undefined;
        tracker.error = { status, message: `${c.error.status ?? 'error'}: ${c.error.message ?? ''}`, retryable: status === undefined || status === 429 || status >= 500 };
      }
    },
    body(raw) {
      tracker.chunk(raw);
      if ((raw as GeminiChunk | null)?.candidates?.length) tracker.finished = true;
    },
  };
  return tracker;
}

export const geminiFamily: WireFamily = {
  tracker: geminiTracker,
  model(site, model, apiKey, fetch) {
    return createGoogleGenerativeAI({ baseURL: site.endpoint.baseUrl, apiKey: apiKey ?? '', fetch }).languageModel(model.providerModel);
  },
};
