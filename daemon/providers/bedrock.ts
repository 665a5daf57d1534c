// AWS Bedrock (Converse / ConverseStream, AWS event-stream framing) through @ai-sdk/amazon-bedrock, in the
// site's region. Authentication: a Bedrock API key (SiteRequest.apiKey, or AWS_BEARER_TOKEN_BEDROCK), else
// SigV4 with the AWS credentials in the daemon's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), read by the library. Usage: metadata.usage of the stream, or usage of the body; its
// cacheDetails say which cache writes were 1-hour ones (billed at their own rate).

import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { oneHourShare } from '../meter/usage';
import type { ReportedUsage } from './types';
import { finishWith, type RawTracker, type WireFamily } from './wire';

export interface BedrockUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number | null;
  cacheWriteInputTokens?: number | null;
  /** The cache writes by TTL ("5m", "1h"). */
  cacheDetails?: { ttl?: string; inputTokens?: number }[] | null;
  totalTokens?: number;
}

const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/** Tokens cacheDetails says were written with this TTL. */
function writtenFor(details: NonNullable<BedrockUsage['cacheDetails']>, ttl: string): number {
  return details.reduce((n, d) => (d?.ttl === ttl ? n + count(d.inputTokens) : n), 0);
}

/** Converse usage: inputTokens excludes cache reads and writes (as in Anthropic's API). */
export function fromBedrock(usage: BedrockUsage): ReportedUsage {
  const details = Array.isArray(usage.cacheDetails) ? usage.cacheDetails : [];
  const oneHour = writtenFor(details, '1h');
  // Both the total and the breakdown are optional fields: bill no fewer writes than either shows.
  const cacheWrite = Math.max(count(usage.cacheWriteInputTokens), oneHour + writtenFor(details, '5m'));
  return {
    input: count(usage.inputTokens),
    cachedInput: count(usage.cacheReadInputTokens),
    cacheWrite,
    ...oneHourShare(oneHour, cacheWrite),
    output: count(usage.outputTokens),
    reasoning: 0,
    raw: usage,
  };
}

interface ConverseChunk {
  messageStop?: { stopReason?: string };
  metadata?: { usage?: BedrockUsage };
}

/**
 * The exceptions ConverseStream sends inside the stream, with the HTTP status each has as an answer of its
 * own (AWS's API reference). The library passes on only their message; without the status a throttled
 * site would not be paused as rate-limited, and a validation error would be retried at another site.
 */
const STREAM_EXCEPTIONS: Record<string, { status: number; retryable: boolean }> = {
  throttlingException: { status: 429, retryable: true },
  serviceUnavailableException: { status: 503, retryable: true },
  internalServerException: { status: 500, retryable: true },
  // 424, but AWS says to retry it: the model's stream broke.
  modelStreamErrorException: { status: 424, retryable: true },
  validationException: { status: 400, retryable: false },
};

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
      for (const [name, { status, retryable }] of Object.entries(STREAM_EXCEPTIONS)) {
        const e = (c as Record<string, { message?: unknown } | undefined>)[name];
        if (!e || tracker.error) continue;
        tracker.error = { status, message: `${name}: ${typeof e.message === 'string' ? e.message : 'no message'}`, retryable };
      }
    },
    body(raw, sdkUsage) {
      const b = raw as { usage?: BedrockUsage; stopReason?: string } | undefined;
      // The library keeps no Converse body, but its usage keeps Converse's own (cacheDetails and all).
      const usage = b?.usage ?? (sdkUsage?.raw as BedrockUsage | undefined);
      if (usage) tracker.usage = fromBedrock(usage);
      finish(b?.stopReason ?? 'end_turn');
    },
  };
  return tracker;
}

export const bedrockFamily: WireFamily = {
  tracker: bedrockTracker,
  // Converse hands stopSequences to the model, and several of Bedrock's models take no more than 4;
  // Claude there refuses whitespace-only ones as Anthropic's API does.
  stops: { max: 4, blank: false },
  model(site, model, apiKey, fetch) {
    return createAmazonBedrock({
      region: site.region,
      ...(site.endpoint.baseUrl ? { baseURL: site.endpoint.baseUrl } : {}),
      ...(apiKey ? { apiKey } : {}),
      fetch,
    }).languageModel(model.providerModel);
  },
};
