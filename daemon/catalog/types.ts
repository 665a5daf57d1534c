// The daemon's own view of a site: the wire SiteRef plus what it needs to reach or simulate it.

import type { EndpointKind, PriceCard, SiteRef } from '../protocol';

export interface SiteModel {
  /** Canonical id shared by every site that runs the same model, e.g. "llama-3.3-70b". */
  canonical: string;
  /** The name the provider's API expects. */
  providerModel: string;
  contextWindow: number;
  /**
   * The longest answer the model gives at this site, tokens, where it is shorter than the context window
   * allows. A request without max_tokens is reserved against the budget for this many output tokens.
   */
  maxOutputTokens?: number;
  /** The model sees images shown with user messages (vision). Absent: text only. */
  images?: boolean;
  price: PriceCard;
  /** Catalog figures, used until telemetry has samples. ttftMs is for an empty prompt, queue excluded. */
  ttftMs: number;
  outputTokensPerSecond: number;
  /** Prefill cost: time to first token grows by this much per input token (0 when absent). */
  ttftPerInputTokenMs?: number;
}

/** How a simulated site behaves; every built-in site has one so the fleet works offline. */
export interface SimulationSpec {
  /** Requests served at once; the rest wait in a FIFO queue. */
  servers: number;
  /** Time to first token = ttftBaseMs + ttftPerInputTokenMs * input tokens, times a lognormal jitter. */
  ttftBaseMs: number;
  ttftPerInputTokenMs: number;
  /** Sigma of the lognormal jitter applied to time to first token. */
  jitter: number;
  outputTokensPerSecond: number;
  /** Probability that a request fails before its first token. */
  errorRate: number;
  /** Windows, in ms since the simulation started, when every request fails with 503. */
  outages?: { startMs: number; endMs: number }[];
  /** Per canonical model: figures that differ from the site-wide ones above (an 8B runs faster than a 70B). */
  models?: Record<string, { ttftBaseMs?: number; ttftPerInputTokenMs?: number; outputTokensPerSecond?: number }>;
}

export interface Endpoint {
  kind: EndpointKind;
  /** Base URL for real endpoints; required for openai-compatible and azure-openai. */
  baseUrl?: string;
  /** false: ask for one JSON answer instead of a stream (for servers that do not stream well). Default true. */
  stream?: boolean;
  /** No bytes from the upstream for this long, before or during the answer: stalled, fail over. Default 120000. */
  idleTimeoutMs?: number;
  /** false: the server cannot call tools (a local server started without a tool parser), so requests with tools go elsewhere. */
  tools?: boolean;
}

export interface Site extends SiteRef {
  label?: string;
  endpoint: Endpoint;
  models: SiteModel[];
  disabled?: boolean;
  simulation?: SimulationSpec;
  /** Requests the site serves at once for this account; beyond it requests queue. Unknown when absent. */
  concurrency?: number;
}

export interface Catalog {
  sites: Site[];
  /** Files merged over the built-in fleet, in order. */
  files: string[];
}
