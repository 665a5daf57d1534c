// The contract between the extension and the daemon: every switchyard/ method with its params and
// result types, and the wire shapes they carry. Both sides import this file; nothing else crosses
// the boundary. Money on the wire is integer nano-USD (1e-9 USD) so that no side ever sums floats.

import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';

/** Bumped when a method is added or changes shape; the extension replaces a daemon that speaks another version. */
export const PROTOCOL_VERSION = 6;

/**
 * Largest single WebSocket message either side accepts (a bigger one closes the socket with 1009), and the
 * largest request body of the OpenAI-compatible endpoint. Screenshots travel as base64 data: URLs of a few
 * MB apiece; 32 MiB is Anthropic's request limit, the tightest of the providers that see images (OpenAI
 * takes up to 50 MB of images in one request).
 */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Finding the daemon: `<stateDir>/daemon.json`, mode 0600, written once the daemon listens.

export const STATE_FILE = 'daemon.json';

export interface DaemonState {
  port: number;
  pid: number;
  token: string;
  version: string;
  /** processIdentity(pid) when written, telling the daemon from a later process given its pid; absent where /proc cannot tell, and from older versions. */
  identity?: string;
}

/** Per user, so every editor window shares one daemon: $XDG_STATE_HOME/switchyard, else ~/.local/state/switchyard. */
export function defaultStateDir(env: Record<string, string | undefined>, home: string): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : `${home}/.local/state`;
  return `${base}/switchyard`;
}

// ---------------------------------------------------------------------------------------------
// Catalog shapes

export type ProviderId =
  | 'simulated'
  | 'openai'
  | 'azure-openai'
  | 'anthropic'
  | 'google'
  | 'groq'
  | 'together'
  | 'fireworks'
  | 'mistral'
  | 'openrouter'
  | 'bedrock'
  | 'replicate'
  | 'openai-compatible';

export type EndpointKind = 'simulated' | 'openai' | 'azure-openai' | 'anthropic' | 'gemini' | 'openai-compatible' | 'bedrock';

/** Prices in USD as the provider publishes them; converted to nano-USD only when a cost is computed. */
export interface PriceCard {
  inputPer1M: number;
  /** Tokens read from a prompt cache. Absent: billed as input (no discount). */
  cachedInputPer1M?: number;
  /** Tokens written to a prompt cache (Anthropic's 5-minute cache). Absent: billed as input. */
  cacheWritePer1M?: number;
  /** Tokens written to a 1-hour prompt cache (Anthropic, Claude on Bedrock). Absent: twice the input price, Anthropic's rule. */
  cacheWrite1hPer1M?: number;
  outputPer1M: number;
  /** Flat fee per request, USD. */
  requestFee?: number;
  /** Data transfer out, USD per GB (1e9 bytes) received. */
  egressPerGB?: number;
  /** A higher price applies to the whole request once its input exceeds `aboveInputTokens`. */
  tier?: { aboveInputTokens: number; inputPer1M: number; cachedInputPer1M?: number; outputPer1M?: number };
  /** ISO date the price was read. */
  readOn: string;
  source?: string;
  note?: string;
}

export interface SiteRef {
  id: string;
  provider: ProviderId;
  region: string;
  /** Human location, e.g. "us-central1 · Council Bluffs, Iowa". */
  location: string;
  hardware: string;
  simulated: boolean;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface TelemetrySnapshot {
  inFlight: number;
  /** Requests waiting at the site, where it tells (simulated sites always do). */
  queueDepth: number | null;
  ttftMs: number | null;
  outputTokensPerSecond: number | null;
  errorRate: number;
  /** 0..1; lowered by rate-limit headers before the site answers 429. */
  headroom: number;
  /** How long placement still leaves the site alone because it said to wait (429, Retry-After); absent or 0: it does not. */
  rateLimitedMs?: number;
  breaker: BreakerState;
  samples: number;
}

export interface SiteModelInfo {
  canonical: string;
  providerModel: string;
  contextWindow: number;
  price: PriceCard;
  ttftMs: number;
  outputTokensPerSecond: number;
  /** The longest answer the model gives here, where the catalog says; else the context window bounds it. */
  maxOutputTokens: number | null;
  /** The model here sees images sent with a prompt (a simulated site sees none). */
  images: boolean;
  /** The model here calls tools (a simulated site answers with text only). */
  tools: boolean;
}

export interface SiteInfo {
  site: SiteRef;
  endpointKind: EndpointKind;
  models: SiteModelInfo[];
  telemetry: TelemetrySnapshot;
  /** Why the site cannot be placed right now, or null when it can ('no address': the catalog must give its endpoint.baseUrl). */
  unavailable: null | 'no key' | 'no address' | 'disabled';
}

export interface CatalogSummary {
  sites: number;
  models: number;
  providers: number;
  simulated: number;
  /** Files merged over the built-in fleet, in order. */
  files: string[];
  /** The last load error; the previous catalog stays in force while this is set. */
  error: string | null;
}

// ---------------------------------------------------------------------------------------------
// Policies

export type PolicyKind = 'cheapest' | 'fastest' | 'balanced' | 'first-fit' | 'pinned';

export interface PolicyConstraints {
  /** Allowed regions (data residency); a site outside them is never placed. */
  regions?: string[];
  hardware?: string[];
  maxUsdPer1MTokens?: number;
  maxUsdPerRequest?: number;
  maxTtftMs?: number;
  /**
   * With maxTtftMs: the share of requests that should get their first token within maxTtftMs at the
   * chosen site, judged from that site's own record of how far its estimates were off (0 < c < 1).
   * Without it, maxTtftMs bounds the expected time.
   */
  ttftConfidence?: number;
  maxQueueDepth?: number;
}

export interface Policy {
  name: string;
  kind: PolicyKind;
  description?: string;
  constraints?: PolicyConstraints;
  /** balanced: what a second of waiting is worth, USD. */
  usdPerSecond?: number;
  /** first-fit: site ids in order. */
  order?: string[];
  /** pinned: the one site. */
  site?: string;
  /** After a cut mid-stream, continue the answer on the next candidate from the partial text. */
  continueOnCut?: boolean;
  /**
   * The policy that places a request (or its failover) when no site meets this one, rather than refusing
   * it. One step: the fallback's own fallback is not followed. With `regions` or `hardware` set here, the
   * fallback must keep within them.
   */
  fallback?: string;
}

export interface PoliciesResult {
  policies: Policy[];
  /** The policy in force for the workspace asked about (or globally). */
  active: string;
  scope: 'workspace' | 'global';
}

export interface SetPolicyParams {
  name: string;
  /** The workspace asking: the choice is its own, unless `everywhere`. Omitted: the global default. */
  workspace?: string;
  /** Set the global default, and `workspace` gives up its own choice to follow it. */
  everywhere?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Placement and receipt

export type RejectReason =
  | 'model'
  | 'disabled'
  | 'no key'
  /** A real site of a kind with no default address (Azure OpenAI, OpenAI-compatible) whose catalog entry gives no endpoint.baseUrl. */
  | 'no address'
  | 'residency'
  | 'hardware'
  | 'context'
  | 'breaker'
  | 'threshold'
  | 'budget'
  | 'pinned'
  /** The request needs what the site cannot do: call tools, answer in JSON (simulated sites produce plain text only). */
  | 'capability';

export interface CostBreakdown {
  inputNanoUsd: number;
  cachedInputNanoUsd: number;
  /** Every cache write, 5-minute and 1-hour, each kind at its own rate. */
  cacheWriteNanoUsd: number;
  outputNanoUsd: number;
  requestFeeNanoUsd: number;
  dataTransferNanoUsd: number;
  totalNanoUsd: number;
}

export interface Candidate {
  site: SiteRef;
  providerModel: string;
  cost: CostBreakdown;
  queueWaitMs: number;
  ttftMs: number;
  totalMs: number;
  inFlight: number;
  queueDepth: number | null;
  breaker: BreakerState;
  /** Present when the candidate was passed over. */
  rejected?: { reason: RejectReason; detail: string };
}

export interface Placement {
  id: string;
  policy: string;
  model: string;
  /** Site id, or null when nothing was eligible. */
  chosen: string | null;
  /** One sentence: why the chosen site won. */
  why: string;
  candidates: Candidate[];
  decidedAt: string;
  /** The policy asked for, when no site met it and this is its fallback's placement (`policy`). */
  fallbackOf?: string;
}

export type Outcome = 'complete' | 'length' | 'cancelled' | 'cut' | 'error';

export interface TokenCounts {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  /** The share of `cacheWrite` written to a 1-hour cache. Absent: none (and on every receipt made before it existed). */
  cacheWrite1h?: number;
  output: number;
  reasoning: number;
  /** True when the provider reported no usage and the meter counted with a tokenizer. */
  estimated: boolean;
}

export interface Attempt {
  siteId: string;
  outcome: Outcome;
  status?: number;
  message?: string;
  ttftMs: number | null;
  durationMs: number;
}

export interface Receipt {
  id: string;
  requestId: string;
  placementId: string;
  site: SiteRef;
  model: string;
  providerModel: string;
  policy: string;
  workspace: string | null;
  client: string;
  outcome: Outcome;
  error?: string;
  /** The site's content filter, a guardrail or the model's refusal ended the answer: it may be cut short though complete. */
  filtered?: true;
  attempts: Attempt[];
  tokens: TokenCounts;
  ttftMs: number | null;
  totalMs: number;
  tokensPerSecond: number | null;
  bytesReceived: number;
  cost: CostBreakdown;
  createdAt: string;
}

// ---------------------------------------------------------------------------------------------
// Spend and budgets

export type BudgetScope = 'day' | 'month' | 'workspace';

export interface BudgetCap {
  scope: BudgetScope;
  /** Workspace key for scope 'workspace'. */
  workspace?: string;
  capUsd: number;
  /** Warn at this share of the cap, 0..1. */
  softRatio: number;
}

export interface BudgetStatus {
  scope: BudgetScope;
  workspace?: string;
  capNanoUsd: number;
  softRatio: number;
  spentNanoUsd: number;
  reservedNanoUsd: number;
  state: 'ok' | 'warn' | 'exceeded';
}

export interface SpendSummary {
  /** Local calendar day and month the totals cover (YYYY-MM-DD, YYYY-MM). */
  day: string;
  month: string;
  todayNanoUsd: number;
  monthNanoUsd: number;
  reservedNanoUsd: number;
  receipts: number;
  byProvider: Record<string, number>;
  bySite: Record<string, number>;
  byModel: Record<string, number>;
  byWorkspace: Record<string, number>;
  /** By the door requests came through: "editor" (the prompt panel), "editor:vscode.lm", "openai-api:<tool>". */
  byClient: Record<string, number>;
  /** Month to date, one entry per day with spend. */
  days: { day: string; byProvider: Record<string, number>; bySite: Record<string, number> }[];
  budgets: BudgetStatus[];
  /** The latest requests from every client and workspace, newest first (at most 10; the ledger has them all). */
  recent: RecentRequest[];
}

/** One request as the spend view lists it; its placement opens with `switchyard/placement` while the daemon remembers it. */
export interface RecentRequest {
  receiptId: string;
  placementId: string;
  createdAt: string;
  client: string;
  model: string;
  site: SiteRef;
  outcome: Outcome;
  costNanoUsd: number;
  totalMs: number;
  workspace: string | null;
}

export interface SpendParams {
  workspace?: string;
}

export interface SetBudgetParams {
  caps: BudgetCap[];
  /**
   * The sending window's workspace key (null: it has none). With it, the caps replace the global ones
   * and that workspace's, and other workspaces' caps stay; without it, they replace every cap.
   */
  workspace?: string | null;
}

export interface ExportLedgerParams {
  path: string;
  format: 'csv' | 'json';
  /** Inclusive ISO dates (YYYY-MM-DD). */
  from?: string;
  to?: string;
}

export interface ExportLedgerResult {
  path: string;
  receipts: number;
}

// ---------------------------------------------------------------------------------------------
// Chat

/** An image shown to the model with a user message. */
export interface ImageInput {
  /** `data:image/png;base64,...` (png, jpeg, gif or webp), or an http(s) URL the provider fetches. */
  url: string;
  /** OpenAI's resolution hint; other providers ignore it. */
  detail?: 'auto' | 'low' | 'high';
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** May be empty for an assistant turn that only called tools, or a user turn that only shows images. */
  content: string;
  /** User only: images shown with the text, after it. The request is placed only on sites whose model sees images. */
  images?: ImageInput[];
  /** Assistant only: the tools the model called in this turn. */
  toolCalls?: ToolCall[];
  /** Tool only: the call whose result `content` is. */
  toolCallId?: string;
}

/** A function the model may call. */
export interface ToolDefinition {
  /** 1-64 letters, digits, `_` or `-`; unique within a request. */
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>;
  /** Ask the provider to hold the arguments to the schema exactly, where it can. */
  strict?: boolean;
}

/** OpenAI's values, from GPT-5.1's "none" to the codex models' "xhigh"; each model takes its own subset and says so. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** Ask for the answer as JSON: any JSON object, or one that matches `schema`. */
export interface ResponseFormat {
  type: 'json';
  /** JSON Schema the answer must match; absent: any JSON object. */
  schema?: Record<string, unknown>;
  /** The schema's name, 1-64 letters, digits, `_` or `-` (OpenAI requires one; default "response"). */
  name?: string;
  description?: string;
  /** Hold the answer to the schema exactly, where the provider can. */
  strict?: boolean;
}

/** Whether the model may, must, or must not call a tool, or which one it must call. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** A call the model made: its arguments are the JSON text the model wrote, passed on as written. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A piece of a streamed tool call: the first piece of call `index` has its id and name, the rest add argument text. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  arguments?: string;
}

/** How the answer is sampled, passed to the site; where a field is absent the site's default holds. */
export interface Sampling {
  /** 0 to 2. */
  temperature?: number;
  /** 0 to 1. */
  topP?: number;
  /** -2 to 2, OpenAI's scale. Providers without penalties ignore them. */
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** An integer; where the provider supports it, the same seed asks for the same answer. */
  seed?: number;
}

export interface ChatParams {
  /** Canonical model id, or `siteId/providerModel` to pin one site. */
  model: string;
  messages: ChatMessage[];
  /** The output cap. Absent: the model's longest answer (the catalog's maxOutputTokens, else the window left), which the budget reserves. */
  maxTokens?: number;
  sampling?: Sampling;
  /** Up to 64 sequences that end the answer where they would appear; they are not part of it (the daemon enforces those a provider does not take). */
  stop?: string[];
  /** Tools the model may call; the request is placed only on sites that can call them. */
  tools?: ToolDefinition[];
  /** Default: the provider's ('auto' when tools are given). */
  toolChoice?: ToolChoice;
  /** False asks for at most one call per turn; default: the provider's. */
  parallelToolCalls?: boolean;
  /** The answer as JSON; placed only on sites that can answer so. Absent: text. */
  responseFormat?: ResponseFormat;
  /** How hard a reasoning model thinks before it answers (OpenAI's reasoning_effort); sites on other wires ignore it. */
  reasoningEffort?: ReasoningEffort;
  /** A policy other than the active one, for this request only. */
  policy?: string;
  workspace?: string;
  /**
   * Who asked, when the editor carries requests for several callers: the ledger's client is then
   * `editor:<via>`, e.g. `editor:vscode.lm` for another extension's request through VS Code's language
   * model API (the prompt panel's are `editor`). 1-40 letters, digits, `.`, `_`, `-`, `@` or `/`.
   */
  via?: string;
}

/** The chat request answers once the request is placed and its budget reserved. */
export interface ChatStarted {
  requestId: string;
  placement: Placement;
}

export interface ChatDeltaParams {
  requestId: string;
  /** A piece of answer text; empty when the delta is a piece of a tool call. */
  text: string;
  toolCall?: ToolCallDelta;
}

export interface ChatAttemptParams {
  requestId: string;
  /** The failed attempt, and the site the request moves to. */
  attempt: Attempt;
  next: SiteRef | null;
  /** True when the answer continues from partial text after a cut. */
  continuation: boolean;
}

export interface ChatReceiptParams {
  requestId: string;
  receipt: Receipt;
}

export interface CancelParams {
  requestId: string;
}

/** Text to count, or messages (counted with their chat framing, as a prompt is). */
export type CountTokensParams = { text: string } | { messages: ChatMessage[] };

export interface CountTokensResult {
  /** o200k tokens: other providers' tokenizers differ by some percent. */
  tokens: number;
}

/** A placement id, as a receipt's `placementId` or the endpoint's `x-switchyard-placement` header gives it. */
export interface PlacementParams {
  id: string;
}

// ---------------------------------------------------------------------------------------------
// Status, configuration, credentials

export interface StatusResult {
  version: string;
  protocolVersion: number;
  pid: number;
  uptimeMs: number;
  clients: number;
  stateDir: string;
  /** The simulated fleet's seed this run; the same seed (--sim-seed, switchyard.daemon.simulationSeed) gives the same simulated answers. */
  simulationSeed: number;
  catalog: CatalogSummary | null;
  team: TeamStatus;
}

/**
 * What this daemon shares with its team's other daemons: site telemetry through their Redis (the flat
 * fields), and the ledger and budgets on their PostgreSQL (`ledger`).
 */
export interface TeamStatus {
  /** off: no team server set; unreachable: set but not reached now (it keeps trying, `error` says why). */
  telemetry: 'off' | 'connecting' | 'connected' | 'unreachable';
  /** host:port of the team's Redis; never its password. */
  server: string | null;
  /** Other daemons heard from in the last 5 minutes. */
  peers: number;
  /** Observations this daemon shared, and took from teammates, since sharing started. */
  published: number;
  received: number;
  error: string | null;
  ledger: TeamLedgerStatus;
}

/** The team ledger: every member's receipts at real sites, and the team's budgets, on one PostgreSQL. */
export interface TeamLedgerStatus {
  state: 'off' | 'connecting' | 'connected' | 'unreachable';
  /** host:port of the team's PostgreSQL; never its user or password. */
  server: string | null;
  error: string | null;
  /** Who this daemon's receipts are recorded as (user@host). */
  member: string;
  /** The team's spend at real sites this UTC day and month, as last read. */
  spentTodayNanoUsd: number;
  spentMonthNanoUsd: number;
  /** Held across the team by requests in flight. */
  reservedNanoUsd: number;
  budgets: TeamBudgetStatus[];
  /** This month's spend per member, largest first. */
  members: { member: string; spentMonthNanoUsd: number }[];
  /** Receipts of this daemon that have not reached the team ledger yet (it was away); sent when it is back. */
  behind: boolean;
}

export interface TeamBudgetStatus {
  /** A UTC day or month: the team's members may live in different time zones. */
  scope: 'day' | 'month';
  capNanoUsd: number;
  spentNanoUsd: number;
  reservedNanoUsd: number;
  state: 'ok' | 'warn' | 'exceeded';
  /** The member who set it. */
  setBy: string;
}

/** A field left out keeps what is set; null stops that part. URLs are kept in daemon memory only. */
export interface SetTeamParams {
  /** The team's Redis (redis://[:password@]host:port or rediss://...), for site telemetry. */
  telemetryUrl?: string | null;
  /** The team's PostgreSQL (postgres://user[:password]@host:port/database), for the ledger and budgets. */
  ledgerUrl?: string | null;
}

/** Sets (or with capUsd null, removes) one of the team's budgets, for every member's daemon. */
export interface SetTeamBudgetParams {
  scope: 'day' | 'month';
  capUsd: number | null;
}

/** How other tools (OpenAI SDKs, aider, Continue, scripts) reach the OpenAI-compatible endpoint. */
export interface EndpointInfo {
  /** `http://127.0.0.1:<port>/v1`. */
  baseUrl: string;
  /** The endpoint key, the same at every daemon start (kept in `keyFile`; deleting it revokes the key). */
  apiKey: string;
  keyFile: string;
  /** Started on a fixed port (`switchyard.daemon.port`), so `baseUrl` outlives a restart too. */
  fixedPort: boolean;
}

export interface ConfigureParams {
  policies?: Policy[];
  defaultPolicy?: string;
  /** The user's catalog file; '' for none. Left out, the daemon keeps the file it has. */
  catalogFile?: string;
  budgets?: BudgetCap[];
  /** The sending window's workspace key (null: none), for `budgets` as in SetBudgetParams. */
  workspace?: string | null;
}

export interface SetCredentialsParams {
  provider: ProviderId;
  /** null removes the key. Kept in daemon memory only. */
  apiKey: string | null;
}

export interface SetCredentialsResult {
  providersWithKeys: ProviderId[];
}

// ---------------------------------------------------------------------------------------------
// Errors: ResponseError.data carries one of these so the editor can say what to do.

export const ErrorCodes = {
  BudgetExceeded: -32001,
  NoEligibleSite: -32002,
  UnknownModel: -32003,
  UpstreamFailed: -32004,
  UnknownRequest: -32005,
  /** The team has budgets, and their ledger cannot be reached to check them: the request is not sent. */
  TeamLedgerUnavailable: -32006,
  InvalidParams: -32602,
} as const;

export interface BudgetExceededData {
  kind: 'budget';
  scope: BudgetScope;
  workspace?: string;
  capNanoUsd: number;
  spentNanoUsd: number;
  reservedNanoUsd: number;
  remainingNanoUsd: number;
  worstCaseNanoUsd: number;
  /** The team's cap (on the team ledger), not this daemon's; scope 'day' or 'month', in UTC. */
  team?: true;
}

export interface NoEligibleSiteData {
  kind: 'no-eligible-site';
  placement: Placement;
}

// ---------------------------------------------------------------------------------------------
// Methods

export const status = new RequestType0<StatusResult, void>('switchyard/status');
export const endpoint = new RequestType0<EndpointInfo, void>('switchyard/endpoint');
export const configure = new RequestType<ConfigureParams, void, void>('switchyard/configure');
export const sites = new RequestType0<SiteInfo[], void>('switchyard/sites');
export const policies = new RequestType<{ workspace?: string }, PoliciesResult, void>('switchyard/policies');
export const setPolicy = new RequestType<SetPolicyParams, PoliciesResult, void>('switchyard/setPolicy');
export const setCredentials = new RequestType<SetCredentialsParams, SetCredentialsResult, void>('switchyard/setCredentials');
export const setTeam = new RequestType<SetTeamParams, TeamStatus, void>('switchyard/setTeam');
/** Team sharing was set or stopped, a link to the team's servers came up or went down, or the team's spend or budgets changed. */
export const teamChanged = new NotificationType<TeamStatus>('switchyard/teamChanged');
/** Needs the team ledger connected. */
export const setTeamBudget = new RequestType<SetTeamBudgetParams, TeamStatus, void>('switchyard/setTeamBudget');

export const chat = new RequestType<ChatParams, ChatStarted, void>('switchyard/chat');
/**
 * Where `switchyard/chat` would place these params now, and why: the same checks, token count and
 * decision, but nothing is sent, counted in flight, reserved, billed or kept. What a budget would refuse
 * comes back as a placement with nothing chosen; bad params and unknown models are refused as by chat.
 */
export const previewChat = new RequestType<ChatParams, Placement, void>('switchyard/previewChat');
export const cancel = new RequestType<CancelParams, { cancelled: boolean }, void>('switchyard/cancel');
export const countTokens = new RequestType<CountTokensParams, CountTokensResult, void>('switchyard/countTokens');
/** One of the daemon's recent placements (editor and endpoint requests alike), or null once forgotten. */
export const placement = new RequestType<PlacementParams, Placement | null, void>('switchyard/placement');
export const chatDelta = new NotificationType<ChatDeltaParams>('switchyard/chatDelta');
export const chatAttempt = new NotificationType<ChatAttemptParams>('switchyard/chatAttempt');
export const receipt = new NotificationType<ChatReceiptParams>('switchyard/receipt');

export const spend = new RequestType<SpendParams, SpendSummary, void>('switchyard/spend');
export const spendChanged = new NotificationType<SpendSummary>('switchyard/spendChanged');
/** The catalog reloaded (a file changed, the setting changed), or a reload was refused: then `error` says why and the previous catalog stays in force. */
export const catalogChanged = new NotificationType<CatalogSummary>('switchyard/catalogChanged');
export const setBudget = new RequestType<SetBudgetParams, BudgetStatus[], void>('switchyard/setBudget');
export const exportLedger = new RequestType<ExportLedgerParams, ExportLedgerResult, void>('switchyard/exportLedger');
