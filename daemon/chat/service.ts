// A routed chat request from start to receipt: validate, place, reserve the worst case against every
// budget (this daemon's, then the team's for a real site), answer the caller, then stream attempts —
// failing over before the first token on retryable errors, under the same reservations — bill what was
// produced, and record one receipt.

import crypto from 'node:crypto';
import * as proto from '../protocol';
import type { CatalogStore } from '../catalog/store';
import { siteRef } from '../catalog/lookup';
import type { Site, SiteModel } from '../catalog/types';
import type { RouteOptions, Router, Routed } from '../engine/router';
import type { PolicyBook } from '../engine/policyBook';
import type { PlacementRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import { billAttempt, BudgetExceededError, type Meter, type Reservation } from '../meter';
import { countPromptTokens, heldToModel, outputCap, worstCaseOf } from '../meter/estimate';
import type { Clock } from '../providers/simulated/clock';
import type { Credentials } from '../providers/keys';
import type { AdapterPool } from '../providers/pool';
import type { SiteResult } from '../providers/types';
import { TeamLedgerUnavailableError, type Team, type TeamHold } from '../team';
import { backoffMs, failsOver, MAX_ATTEMPTS } from './failover';
import { addCost, addTokens, tokensPerSecond, ZERO_COST, ZERO_TOKENS } from './receipt';
import { StopScanner } from './stop';
import { usesTools } from './tools';
import { validateChat } from './validate';

/** Where one request's notifications go: the connection (or HTTP response) that asked. */
export interface ChatSink {
  delta(text: string): void;
  /** A piece of a tool call the model is making (requests with tools only). */
  toolCall?(piece: proto.ToolCallDelta): void;
  attempt(params: Omit<proto.ChatAttemptParams, 'requestId'>): void;
  /**
   * The answer is over and its cost is known: called with the final receipt before it is durable.
   * An answer may be delivered here; a billing acknowledgement may not (see `receipt`).
   */
  complete?(receipt: proto.Receipt): void;
  /** The receipt is durable in the ledger and counted as spend (or could not be written, and is logged). */
  receipt(receipt: proto.Receipt): void;
}

export class ChatError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

export interface ChatDeps {
  catalog: CatalogStore;
  router: Router;
  meter: Meter;
  policies: PolicyBook;
  credentials: Credentials;
  adapters: AdapterPool;
  clock: Clock;
  log: Logger;
  team: Pick<Team, 'keepsLedger' | 'remainingNanoUsd' | 'hold' | 'resize' | 'record' | 'release'>;
}

/** Placements kept, so an id from a receipt or the endpoint's x-switchyard-placement header can be opened ("why here?"). */
export const PLACEMENTS_KEPT = 1000;

interface Running {
  controller: AbortController;
  /** The connection that asked, whose going away cancels the request. */
  owner: string;
  /** Resolves when the request is over: its receipt recorded, or refused before anything was sent. */
  over: Promise<void>;
  end(): void;
}

function newRunning(owner: string): Running {
  let end!: () => void;
  const over = new Promise<void>((resolve) => (end = resolve));
  return { controller: new AbortController(), owner, over, end };
}

interface Target {
  site: Site;
  model: SiteModel;
  routed: Routed;
}

export class ChatService {
  private readonly running = new Map<string, Running>();
  private readonly placements = new Map<string, proto.Placement>();
  /** Set by stopAll: the daemon is stopping, and no request may start after the running ones were cancelled. */
  private stopping = false;

  constructor(private readonly deps: ChatDeps) {}

  /** A recent placement by id, whoever asked (editor or endpoint), refusals included; undefined once forgotten. */
  placement(id: string): proto.Placement | undefined {
    return this.placements.get(id);
  }

  private remember(placement: proto.Placement): void {
    this.placements.set(placement.id, placement);
    if (this.placements.size > PLACEMENTS_KEPT) this.placements.delete(this.placements.keys().next().value!);
  }

  /**
   * Synchronous up to this daemon's reservation, so concurrent requests cannot both pass a local budget
   * check; the team's budgets are held next, in a transaction on the team ledger (real sites only).
   * `client` is the door the ledger names ("editor", "openai-api:aider"), with the request's `via`
   * after a colon; `owner` the connection whose closing cancels it.
   */
  async start(raw: unknown, client: string, sinkFor: (requestId: string) => ChatSink, owner = client): Promise<proto.ChatStarted> {
    const params = validateChat(raw);
    const { catalog, router, meter } = this.deps;
    const { canonical, pinSite, policy, request, options } = this.routing(params);
    const decide = () => {
      const routed = router.place(request, policy, { ...options(), id: crypto.randomUUID() });
      this.remember(routed.placement);
      return routed;
    };
    let routed = decide();
    // The team's headroom placement reads is as last heard; only the ledger's own check is exact. When
    // that check finds room after all (a teammate's answer settled below its worst case meanwhile),
    // the request is placed again on the fresh figure.
    if (!routed.ticket && (await this.refuseOverBudget(routed.placement, request, params))) routed = decide();
    const placement = routed.placement;
    if (!routed.ticket || placement.chosen === null) {
      throw new ChatError(proto.ErrorCodes.NoEligibleSite, placement.why, { kind: 'no-eligible-site', placement } satisfies proto.NoEligibleSiteData);
    }
    const site = catalog.index.site(placement.chosen)!;
    const target: Target = { site, model: site.models.find((m) => m.canonical === canonical)!, routed };
    const worst = worstCaseAt(target.model, request.inputTokens, params.maxTokens);
    if (this.stopping) {
      router.settle(routed.ticket, UNSENT);
      throw new Error('the daemon is stopping');
    }
    let reservation: Reservation;
    try {
      reservation = meter.reserve({ worstCaseNanoUsd: worst, workspace: params.workspace });
    } catch (error) {
      router.settle(routed.ticket, UNSENT);
      throw error;
    }
    const requestId = crypto.randomUUID();
    const entry = newRunning(owner);
    const controller = entry.controller;
    // Running from here: the team's hold is a round trip, and a connection that closes meanwhile cancels
    // the request too (its run then sends nothing, and its receipt says cancelled).
    this.running.set(requestId, entry);
    let teamHold: TeamHold | null = null;
    if (!site.simulated && this.deps.team.keepsLedger) {
      try {
        teamHold = await this.holdTeam(worst);
      } catch (error) {
        this.finish(requestId);
        reservation.release();
        router.settle(routed.ticket, UNSENT);
        throw error;
      }
    }
    const asker = params.via ? `${client}:${params.via}` : client;
    void this.run({ requestId, params, canonical, pinSite, policy, request, target, reservation, teamHold, controller, client: asker, sink: sinkFor(requestId) })
      // Nothing a request meets may stop the daemon that serves every other: what is held stays held.
      .catch((error) => this.deps.log.error('request failed inside the daemon; its reservation stays held', { requestId, error }))
      .finally(() => this.finish(requestId));
    return { requestId, placement };
  }

  /** Where `start` would place these params now: nothing is sent, counted in flight, reserved or remembered. */
  preview(raw: unknown): proto.Placement {
    const { policy, request, options } = this.routing(validateChat(raw));
    return this.deps.router.preview(request, policy, { ...options(), id: crypto.randomUUID() });
  }

  /** What placing these params takes: the model, policy and placement request, and the route options as of now. */
  private routing(params: ReturnType<typeof validateChat>) {
    const { catalog, meter, policies, credentials, team } = this.deps;
    const { canonical, pinSite } = resolveModel(catalog, params.model);
    const policy = params.policy ? policies.get(params.policy) : policies.active(params.workspace);
    const request: PlacementRequest = {
      model: canonical,
      inputTokens: countPromptTokens(params.messages, params),
      maxOutputTokens: params.maxTokens,
      ...(usesTools(params) ? { tools: true } : {}),
      ...(params.responseFormat ? { json: params.responseFormat.schema ? 'schema' as const : 'object' as const } : {}),
      ...imagesIn(params.messages),
    };
    const options = (): RouteOptions => ({
      hasKey: (provider) => credentials.has(provider),
      remainingBudgetNanoUsd: meter.remainingNanoUsd(params.workspace),
      teamRemainingNanoUsd: team.remainingNanoUsd(),
      pinSite,
      fallback: policies.fallbackOf(policy),
    });
    return { canonical, pinSite, policy, request, options };
  }

  /**
   * A site passed over for budget passed every other check, so a budget is what stopped this request:
   * the meter, then the team ledger, refuse it, phrasing the refusal with the smallest worst case among
   * those sites. Returns true when the team ledger, asked, has room, or no cap any more (a teammate
   * removed it): the headroom placement read was stale.
   */
  private async refuseOverBudget(placement: proto.Placement, request: PlacementRequest, params: ReturnType<typeof validateChat>): Promise<boolean> {
    const overBudget = placement.candidates.filter((c) => c.rejected?.reason === 'budget');
    if (overBudget.length === 0) return false;
    const { catalog, meter, team } = this.deps;
    const worst = Math.min(...overBudget.map((c) => {
      const model = catalog.index.site(c.site.id)!.models.find((m) => m.canonical === request.model)!;
      return worstCaseAt(model, request.inputTokens, params.maxTokens);
    }));
    meter.reserve({ worstCaseNanoUsd: worst, workspace: params.workspace }).release();
    if (!overBudget.some((c) => !c.site.simulated) || !team.keepsLedger) return false;
    // Over a team cap, holdTeam throws the team's refusal; a hold, or none because no cap is left, is room.
    await team.release(await this.holdTeam(worst));
    return true;
  }

  /** The team's hold for a real site; a ledger out of reach is the contract's TeamLedgerUnavailable. */
  private async holdTeam(worstCaseNanoUsd: number): Promise<TeamHold | null> {
    try {
      return await this.deps.team.hold(worstCaseNanoUsd);
    } catch (error) {
      throw error instanceof TeamLedgerUnavailableError ? new ChatError(proto.ErrorCodes.TeamLedgerUnavailable, error.message) : error;
    }
  }

  cancel(requestId: string): boolean {
    const running = this.running.get(requestId);
    running?.controller.abort();
    return running !== undefined;
  }

  /** The connection went away: nobody will read these answers, so stop paying for them. */
  cancelOwner(owner: string): void {
    for (const running of this.running.values()) if (running.owner === owner) running.controller.abort();
  }

  /**
   * The daemon is stopping: refuses new requests, cancels every running one and waits for their
   * receipts, at most `waitMs` (an upstream that ignores the abort must not hold the shutdown). What
   * was streamed before the cancel is billed by the provider, so it must reach the ledger before the
   * ledger closes. Resolves with the number of requests still not over.
   */
  async stopAll(waitMs: number): Promise<number> {
    this.stopping = true;
    const over = [...this.running.values()].map((r) => (r.controller.abort(), r.over));
    if (over.length === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([Promise.all(over), waited]);
    clearTimeout(timer);
    return this.running.size;
  }

  private finish(requestId: string): void {
    this.running.get(requestId)?.end();
    this.running.delete(requestId);
  }

  private async run(r: {
    requestId: string;
    params: ReturnType<typeof validateChat>;
    canonical: string;
    pinSite: string | undefined;
    policy: proto.Policy;
    request: PlacementRequest;
    target: Target;
    reservation: Reservation;
    teamHold: TeamHold | null;
    controller: AbortController;
    client: string;
    sink: ChatSink;
  }): Promise<void> {
    const { clock, router, credentials, adapters, meter, log } = this.deps;
    const startedAt = clock.now();
    const signal = r.controller.signal;
    const attempts: proto.Attempt[] = [];
    const tried = new Set<string>();
    let target = r.target;
    // The last site the request was sent to: a cancel during a failover's backoff ends it there, not at
    // the next site, which never heard of it.
    let reached: Target | null = null;
    let cost = ZERO_COST;
    let tokens = ZERO_TOKENS;
    let bytes = 0;
    let firstTokenAt: number | null = null;
    let last: SiteResult;
    // After a cut that the policy continues, the next attempt gets the answer so far and is asked to go on.
    let messages = r.params.messages;
    let partial = '';
    // Providers take only a few stop strings; the daemon ends the answer at every one. One scanner for the
    // request, as a continuation goes on with the same answer.
    const stops = r.params.stop ? new StopScanner(r.params.stop) : null;
    for (;;) {
      tried.add(target.site.id);
      const attemptStart = clock.now();
      // Cancelled before anything was sent (its connection closed during the team's hold): nothing to
      // bill, no attempt to record. Later attempts are not started once cancelled.
      if (signal.aborted) {
        last = UNSENT;
        router.settle(target.routed.ticket!, last);
        break;
      }
      // Reaching a stop string ends the attempt as a cancel would: the upstream request is aborted. A
      // simulated site ends its answer at every stop string itself, and its label, which is no part of
      // the answer, must not be searched: its text goes straight through, after what was held back.
      const scan = target.site.simulated ? null : stops;
      if (stops && !scan) {
        const held = stops.flush();
        if (held) r.sink.delta(held);
      }
      const atStop = new AbortController();
      try {
        last = await adapters.get(target.site).send({
          site: target.site,
          model: target.model,
          messages,
          sampling: r.params.sampling,
          stop: r.params.stop,
          tools: r.params.tools,
          toolChoice: r.params.toolChoice,
          parallelToolCalls: r.params.parallelToolCalls,
          responseFormat: r.params.responseFormat,
          reasoningEffort: r.params.reasoningEffort,
          maxTokens: sentCap(r.params.maxTokens, target.model, partial ? tokens.output : 0),
          signal: scan ? AbortSignal.any([signal, atStop.signal]) : signal,
          apiKey: credentials.get(target.site.provider),
          onDelta: (text) => {
            firstTokenAt ??= clock.now();
            if (!scan) return r.sink.delta(text);
            const shown = scan.push(text);
            if (shown) r.sink.delta(shown);
            if (scan.stopped) atStop.abort();
          },
          onToolCall: (piece) => {
            firstTokenAt ??= clock.now();
            // Past a stop string the answer is over, calls included.
            if (!stops?.stopped) r.sink.toolCall?.(piece);
          },
        });
      } catch (error) {
        // An adapter must report failures as results; a throw is a bug there, not the provider's answer.
        log.error('adapter threw', { site: target.site.id, error });
        last = { outcome: 'error', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: clock.now() - attemptStart, error: { message: (error as Error).message, retryable: false } };
      }
      // The bill follows what the upstream did (aborted: what arrived); the answer ended at the stop string, complete.
      const upstreamOutcome = last.outcome;
      reached = target;
      if (stops?.stopped) last = { ...last, outcome: 'complete', error: undefined };
      router.settle(target.routed.ticket!, last);
      const attempt: proto.Attempt = {
        siteId: target.site.id,
        outcome: last.outcome,
        status: last.error?.status,
        message: last.error ? `${target.site.id}: ${last.error.message}` : undefined,
        ttftMs: last.ttftMs,
        durationMs: last.durationMs,
      };
      attempts.push(attempt);
      bytes += last.bytesReceived;
      if (last.outcome !== 'error' || last.usage || last.text || last.toolCalls || last.reasoningText) {
        const billed = billAttempt(target.model.price, { outcome: upstreamOutcome, usage: last.usage, messages, definitions: r.params, text: last.text, toolCalls: last.toolCalls, reasoningText: last.reasoningText, bytesReceived: last.bytesReceived });
        cost = addCost(cost, billed.cost);
        tokens = addTokens(tokens, billed.tokens);
      }
      // Once output reached the caller another site cannot take over; a call cut halfway cannot be continued as text.
      const retry = failsOver(last);
      const continueCut = last.outcome === 'cut' && r.policy.continueOnCut === true && last.text.length > 0 && !last.toolCalls && tokens.output < (r.params.maxTokens ?? Infinity);
      const nextMessages = continueCut ? continuationMessages(r.params.messages, partial + last.text) : messages;
      const next = (retry || continueCut) && !signal.aborted && attempts.length < MAX_ATTEMPTS
        ? await this.failover(r, tried, cost.totalNanoUsd, nextMessages)
        : null;
      if (!next) break;
      if (continueCut) {
        partial += last.text;
        messages = nextMessages;
      }
      r.sink.attempt({ attempt, next: siteRef(next.site), continuation: partial.length > 0 });
      await clock.sleep(backoffMs(attempts.length, Math.random()), signal);
      target = next;
    }
    // The text ended before any stop string: what was held back as the possible start of one is its end.
    const rest = stops && !stops.stopped ? stops.flush() : '';
    if (rest) r.sink.delta(rest);
    const totalMs = clock.now() - startedAt;
    const ttftMs = firstTokenAt === null ? null : firstTokenAt - startedAt;
    const answered = reached ?? target;
    const receipt: proto.Receipt = {
      id: crypto.randomUUID(),
      requestId: r.requestId,
      placementId: r.target.routed.placement.id,
      site: siteRef(answered.site),
      model: r.canonical,
      providerModel: answered.model.providerModel,
      policy: r.policy.name,
      workspace: r.params.workspace ?? null,
      client: r.client,
      outcome: last.outcome,
      error: last.outcome === 'error' ? attempts[attempts.length - 1].message : undefined,
      ...(last.filtered ? { filtered: true as const } : {}),
      attempts,
      tokens,
      ttftMs,
      totalMs,
      tokensPerSecond: tokensPerSecond(tokens.output, ttftMs, totalMs),
      bytesReceived: bytes,
      cost,
      createdAt: new Date().toISOString(),
    };
    // The answer goes out now; the acknowledgement of the bill waits for the durable append. The
    // reservation holds the answer's cost until then (record shrinks it from the worst case in the
    // same step), so a crash in between loses a receipt but overruns no cap.
    // A client's failure to take the answer (a header it cannot write, a socket gone) must not lose the bill.
    try {
      r.sink.complete?.(receipt);
    } catch (error) {
      log.error('could not deliver the answer; it is billed all the same', { requestId: r.requestId, error });
    }
    // The team ledger learns it at the same time, so its hold of the worst case goes as soon as the
    // file's does. The file ledger stays the record this daemon bills from: a receipt the team ledger
    // missed is sent from it when the team ledger is back.
    void this.deps.team.record(receipt, r.teamHold);
    try {
      await meter.record(receipt, r.reservation);
    } catch (error) {
      log.error('could not record receipt; its reservation stays held', { requestId: r.requestId, error });
    }
    try {
      r.sink.receipt(receipt);
    } catch (error) {
      log.error('could not deliver the receipt', { requestId: r.requestId, error });
    }
  }

  /** The next candidate for a failed request, with the reservations grown to cover it; null when none fits. */
  private async failover(r: { params: ReturnType<typeof validateChat>; canonical: string; pinSite: string | undefined; policy: proto.Policy; request: PlacementRequest; reservation: Reservation; teamHold: TeamHold | null }, tried: Set<string>, spentNanoUsd: number, messages: proto.ChatMessage[] = r.params.messages): Promise<Target | null> {
    const { router, credentials, catalog, log, team, policies, meter } = this.deps;
    // A continuation sends the answer so far as well: the context windows and costs placement weighs are the longer prompt's.
    const promptTokens = messages === r.params.messages ? r.request.inputTokens : countPromptTokens(messages, r.params);
    // Placed within this daemon's budgets, as the first attempt was, or a site they cannot cover would be
    // chosen and then given up on below while one they can was passed over. The request's reservation is
    // resized, not added to: its part beyond what was spent is room for the next site. (The team's
    // headroom is as last heard, possibly stale: its exact check stays the hold below.)
    const remaining = meter.remainingNanoUsd(r.params.workspace);
    const routed = router.place({ ...r.request, inputTokens: promptTokens }, r.policy, {
      hasKey: (p) => credentials.has(p), pinSite: r.pinSite, exclude: tried, id: crypto.randomUUID(), fallback: policies.fallbackOf(r.policy),
      remainingBudgetNanoUsd: remaining === undefined ? undefined : Math.max(0, remaining + r.reservation.nanoUsd - spentNanoUsd),
    });
    if (!routed.ticket || routed.placement.chosen === null) return null;
    const site = catalog.index.site(routed.placement.chosen)!;
    const model = site.models.find((m) => m.canonical === r.canonical)!;
    try {
      // The same reservations, re-checked: a failover cannot escape the budgets the request was admitted under.
      const needed = spentNanoUsd + worstCaseAt(model, promptTokens, r.params.maxTokens);
      r.reservation.resize(needed);
      if (r.teamHold) await team.resize(r.teamHold, needed);
      else if (!site.simulated && team.keepsLedger) r.teamHold = await team.hold(needed);
    } catch (error) {
      router.settle(routed.ticket, UNSENT);
      if (error instanceof BudgetExceededError || error instanceof TeamLedgerUnavailableError) {
        log.info('failover stopped by budget', { site: site.id, reason: error.message });
        return null;
      }
      throw error;
    }
    return { site, model, routed };
  }
}

/** What the user sees as the answer continues on another site after a cut. */
export const CONTINUE_PROMPT =
  'Your previous answer was cut off at the end of the assistant message above. Continue it exactly from where it stopped: do not repeat anything, do not comment, just write the rest.';

/** The original conversation, the partial answer as an assistant message, and a request to continue it. */
export function continuationMessages(messages: readonly proto.ChatMessage[], partial: string): proto.ChatMessage[] {
  return [...messages, { role: 'assistant', content: partial }, { role: 'user', content: CONTINUE_PROMPT }];
}

/** Canonical model id, or `siteId/providerModel` (or `siteId/canonical`) pinning one site. */
function resolveModel(catalog: CatalogStore, model: string): { canonical: string; pinSite?: string } {
  const index = catalog.index;
  if (index.offers(model).length > 0) return { canonical: model };
  for (const site of index.catalog.sites) {
    if (!model.startsWith(`${site.id}/`)) continue;
    const rest = model.slice(site.id.length + 1);
    const offered = site.models.find((m) => m.providerModel === rest || m.canonical === rest);
    if (offered) return { canonical: offered.canonical, pinSite: site.id };
  }
  throw new ChatError(proto.ErrorCodes.UnknownModel, `unknown model "${model}": use a canonical id (${index.models().join(', ')}) or siteId/model`);
}

/** Whether the request shows images, and whether any goes by URL rather than inline, for placement. */
function imagesIn(messages: readonly proto.ChatMessage[]): Pick<PlacementRequest, 'images'> {
  let images: PlacementRequest['images'];
  for (const m of messages) {
    for (const image of m.images ?? []) {
      if (!image.url.startsWith('data:')) return { images: 'url' };
      images = 'inline';
    }
  }
  return images ? { images } : {};
}

/**
 * The cap sent to the site: the request's, less what a continuation already produced; without one, the
 * model's maximum where the catalog knows it (so the answer cannot outgrow what was reserved), else none.
 */
function sentCap(maxTokens: number | undefined, model: SiteModel, produced: number): number | undefined {
  const cap = maxTokens === undefined ? model.maxOutputTokens : heldToModel(model, maxTokens);
  return cap === undefined ? undefined : Math.max(1, cap - produced);
}

/** What a request reserves at a site: every prompt token and the longest answer it can get there (outputCap). */
function worstCaseAt(model: SiteModel, promptTokens: number, maxTokens: number | undefined): number {
  return worstCaseOf(model.price, promptTokens, outputCap(model, promptTokens, maxTokens)).cost.totalNanoUsd;
}

/** Settles a placement that was never sent: neither a success nor a failure for the site. */
const UNSENT: SiteResult = { outcome: 'cancelled', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: 0 };
