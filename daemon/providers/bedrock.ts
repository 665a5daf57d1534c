// AWS Bedrock (Converse / ConverseStream, AWS event-stream framing) through @ai-sdk/amazon-bedrock, in the
// site's region. Authentication: a Bedrock API key (SiteRequest.apiKey, or AWS_BEARER_TOKEN_BEDROCK), else
// SigV4 with the AWS credentials in the daemon's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), read by the library. Usage: metadata.usage of the stream, or usage of the body.

import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import type { ReportedUsage } from './types';
import { finishWith, type RawTracker, type WireFamily } from './wire';

export interface BedrockUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number | null;
  cacheWriteInputTokens?: number | null;
  totalTokens?: number;
}

const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/** Converse usage: inputTokens excludes cache reads and writes (as in Anthropic's API). */
export function fromBedrock(usage: BedrockUsage): ReportedUsage {
  return {
    input: count(usage.inputTokens),
    cachedInput: count(usage.cacheReadInputTokens),
    cacheWrite: count(usage.cacheWriteInputTokens),
    output: count(usage.outputTokens),
    reasoning: 0,
    raw: usage,
  };
}

interface ConverseChunk {
  messageStop?: { stopReason?: string };
  metadata?: { usage?: BedrockUsage };
}

export function bedrockTracker(): RawTracker {
  const finish = (reason: string | undefined) => finishWith(tracker, reason, 'max_tokens');
  const tracker: RawTracker = {
    usage: null,
    finished: false,
    length: false,
    chunk(raw) {
      const c = raw as ConverseChunk | null;
      if (!c || typeof c !== 'object') return;
      if (c.metadata?.usage) tracker.usage = fromBedrock(c.metadata.usage);
      finish(c.messageStop?.stopReason);
    },
    body(raw) {
      const b = raw as { usage?: BedrockUsage; stopReason?: string } | null;
      if (b?.usage) tracker.usage = fromBedrock(b.usage);
      finish(b?.stopReason ?? 'end_turn');
    },
  };
  return tracker;
}

export const bedrockFamily: WireFamily = {
  tracker: bedrockTracker,
  model(site, model, apiKey, fetch) {
    return createAmazonBedrock({
      region: site.region,
      ...(site.endpoint.baseUrl ? { baseURL: site.endpoint.baseUrl } : {}),
      ...(apiKey ? { apiKey } : {}),
      fetch,
    }).languageModel(model.providerModel);
  },
};
