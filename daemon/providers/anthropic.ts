// Anthropic Messages through @ai-sdk/anthropic. Usage comes from the raw stream events folded with the
// meter's foldAnthropic (message_start carries input and cache counts, message_delta the cumulative
// output); message_delta's stop_reason is the proper finish; an `error` event is the provider's error.

import { createAnthropic } from '@ai-sdk/anthropic';
import { foldAnthropic, type AnthropicEvent, type AnthropicUsage } from '../meter/usage';
import type { RawTracker, WireFamily } from './wire';
import { finishWith, toSiteError } from './wire';

interface RawEvent {
  type?: string;
  delta?: { stop_reason?: string | null };
  error?: { type?: string; message?: string };
}

export function anthropicTracker(): RawTracker {
  const finish = (reason: string | null | undefined) => finishWith(tracker, reason, 'max_tokens');
  const tracker: RawTracker = {
    usage: null,
    finished: false,
    length: false,
    chunk(raw) {
      const e = raw as RawEvent | null;
      if (!e || typeof e.type !== 'string') return;
      tracker.usage = foldAnthropic(tracker.usage, e as AnthropicEvent);
      if (e.type === 'message_delta') finish(e.delta?.stop_reason);
      if (e.type === 'message_stop') tracker.finished = true;
      if (e.type === 'error' && !tracker.error) tracker.error = toSiteError(e, {});
    },
    body(raw) {
      const b = raw as { usage?: AnthropicUsage; stop_reason?: string | null } | null;
      if (!b) return;
      if (b.usage) tracker.usage = foldAnthropic(null, { type: 'message_start', message: { usage: b.usage } });
      finish(b.stop_reason ?? 'end_turn');
    },
  };
  return tracker;
}

export const anthropicFamily: WireFamily = {
  tracker: anthropicTracker,
  // No count is documented; a whitespace-only stop string is a 400 ("must contain non-whitespace").
  stops: { max: Infinity, blank: false },
  model(site, model, apiKey, fetch) {
    return createAnthropic({ baseURL: site.endpoint.baseUrl, apiKey: apiKey ?? '', fetch }).languageModel(model.providerModel);
  },
  // One call per turn is Anthropic's disable_parallel_tool_use; Gemini and Bedrock have no such switch.
  providerOptions: (req) => (req.parallelToolCalls === false && req.tools?.length ? { anthropic: { disableParallelToolUse: true } } : undefined),
};
