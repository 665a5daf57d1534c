// The OpenAI-compatible endpoint: POST /v1/chat/completions (JSON and SSE) and GET /v1/models, behind
// the daemon's token. Each request goes through ChatService like an editor's: the same placement,
// budget reservation, failover, ledger and spend pushes. Only the framing differs.
// Chat completions is served on node:http alone, ahead of Express (./http); the GET routes are Express's.

import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import { PLACEMENTS_KEPT, type ChatService } from '../chat/service';
import { appendToolCall } from '../chat/tools';
import type { CatalogStore } from '../catalog/store';
import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics';
import { MAX_MESSAGE_BYTES, type Receipt, type ToolCall, type ToolCallDelta } from '../protocol';
import { openAIError, toOpenAIError, upstreamError, type OpenAIError } from './errors';
import { served } from '../server/http';
import { headerValue, readJson, sendError, sendJson } from './http';
import { clientName, completion, parseCompletionRequest } from './request';
import { ChunkWriter } from './sse';

export interface EndpointDeps {
  chat: ChatService;
  catalog: CatalogStore;
  log: Logger;
  metrics?: Metrics;
}

export interface OpenAIEndpoint {
  /** POST /v1/chat/completions: a plain node:http listener, guarded by the caller. */
  chatCompletions(req: IncomingMessage, res: ServerResponse): void;
  /**
   * GET /v1/models, /v1/models/:id and /v1/switchyard/placements/:id, each also with a trailing slash;
   * and POST /v1/chat/completions/, which some clients build with one and the direct route does not match.
   */
  router: Router;
}

export function createOpenAIEndpoint(deps: EndpointDeps): OpenAIEndpoint {
  const { chat, catalog, log, metrics } = deps;
  const router = Router();
  const created = Math.floor(Date.now() / 1000);

  const fail = (res: ServerResponse, error: OpenAIError) => {
    if (error.refusal) metrics?.refused(error.refusal);
    sendError(res, error);
  };

  /** Every model a request may name: canonical ids, placed by policy, then each site's own (not a disabled site's). */
  const models = () => {
    const index = catalog.index;
    const data: { id: string; object: 'model'; created: number; owned_by: string }[] = index.models().map((id) => ({ id, object: 'model', created, owned_by: 'switchyard' }));
    for (const site of index.catalog.sites) {
      if (site.disabled) continue;
      for (const m of site.models) data.push({ id: `${site.id}/${m.providerModel}`, object: 'model', created, owned_by: site.provider });
    }
    return data;
  };

  served(router, '/v1/models', { get: (_req, res) => sendJson(res, 200, { object: 'list', data: models() }) });

  served(router, '/v1/models/*id', { get: (req, res) => {
    const raw = (req.params as Record<string, string | string[]>).id;
    // A trailing slash is an empty last segment, not part of the id.
    const id = (Array.isArray(raw) ? raw.join('/') : String(raw)).replace(/\/$/, '');
    const model = models().find((m) => m.id === id);
    if (model) return void sendJson(res, 200, model);
    fail(res, openAIError(404, 'invalid_request_error', 'model_not_found', `The model "${id}" does not exist here; GET /v1/models lists them`, 'model'));
  } });

  served(router, '/v1/switchyard/placements/:id', { get: (req, res) => {
    const id = String(req.params.id);
    const placement = chat.placement(id);
    if (placement) return void sendJson(res, 200, placement);
    fail(res, openAIError(404, 'invalid_request_error', 'placement_not_found', `no recent placement ${id} (the last ${PLACEMENTS_KEPT} are kept)`));
  } });

  const chatCompletions = (req: IncomingMessage, res: ServerResponse) => {
    readJson(req, MAX_MESSAGE_BYTES)
      .then(
        (body) => complete(body, req, res),
        (error: OpenAIError) => fail(res, error),
      )
      // A bug on this path must answer this request, not become an unhandled rejection that stops the daemon.
      .catch((error: unknown) => {
        log.error('openai endpoint error', { error });
        if (res.headersSent) res.destroy();
        else fail(res, openAIError(500, 'server_error', null, `Switchyard internal error: ${error instanceof Error ? error.message : String(error)}`));
      });
  };

  async function complete(body: unknown, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let parsed: ReturnType<typeof parseCompletionRequest>;
    try {
      parsed = parseCompletionRequest(body, req.headers);
    } catch (error) {
      return fail(res, toOpenAIError(error));
    }
    const { params, stream, includeUsage } = parsed;
    const id = `chatcmpl-${crypto.randomUUID().replace(/-/g, '')}`;
    const createdAt = Math.floor(Date.now() / 1000);
    const writer = stream ? new ChunkWriter(res, id, createdAt, params.model) : null;
    // Deltas that beat the headers (none should: adapters are asynchronous) wait here.
    let early: (string | ToolCallDelta)[] | null = [];
    let text = '';
    const calls: ToolCall[] = [];
    let finished = false;
    let headers: Record<string, string> = {};

    // The answer is sent as soon as its cost is known (ChatSink.complete), not after the receipt's
    // fdatasync: the budget reservation is held until the receipt is durable, so no cap can be overrun.
    const onComplete = (receipt: Receipt) => {
      finished = true;
      if (res.destroyed || res.writableEnded) return;
      const cost = (receipt.cost.totalNanoUsd / 1e9).toFixed(9);
      if (writer) {
        if (receipt.outcome === 'complete' || receipt.outcome === 'length') writer.finish(receipt, includeUsage);
        else if (receipt.outcome === 'cancelled') writer.fail(openAIError(499, 'request_cancelled', 'cancelled', 'The request was cancelled'), receipt, includeUsage);
        else writer.fail(upstreamError(receipt), receipt, includeUsage);
        return;
      }
      const where = { ...headers, 'x-switchyard-site': receipt.site.id, 'x-switchyard-cost-usd': cost };
      if (receipt.outcome === 'complete' || receipt.outcome === 'length') return void sendJson(res, 200, completion(id, createdAt, params.model, text, calls, receipt), where);
      const error = receipt.outcome === 'cancelled' ? openAIError(499, 'request_cancelled', 'cancelled', 'The request was cancelled') : upstreamError(receipt);
      error.body.error.switchyard = { receipt };
      sendError(res, error, where);
    };

    // The client can go away while the request is being placed (a team ledger's hold is a round trip):
    // it is cancelled as soon as it has an id. After the answer is over, closing is just the end.
    let requestId: string | null = null;
    let gone = false;
    res.on('close', () => {
      if (finished || res.writableFinished) return;
      gone = true;
      if (requestId === null) return;
      log.debug('openai client closed before the end; cancelling', { requestId });
      chat.cancel(requestId);
    });
    let started: Awaited<ReturnType<ChatService['start']>>;
    try {
      started = await chat.start(params, clientName(req.headers['user-agent']), () => ({
        delta(piece) {
          if (!writer) text += piece;
          else if (early) early.push(piece);
          else writer.delta(piece);
        },
        toolCall(piece) {
          if (!writer) appendToolCall(calls, piece);
          else if (early) early.push(piece);
          else writer.toolCall(piece);
        },
        attempt({ attempt, next, continuation }) {
          if (!writer || early) return;
          if (next) writer.movedTo(next.id);
          writer.comment(`switchyard: ${attempt.message ?? `${attempt.siteId} ${attempt.outcome}`}; ${continuation ? 'continuing' : 'retrying'} on ${next?.id ?? '?'}`);
        },
        complete: onComplete,
        receipt() {},
      }));
    } catch (error) {
      return fail(res, toOpenAIError(error, params.maxTokens !== undefined));
    }
    const { placement } = started;
    requestId = started.requestId;
    // Gone already: stop paying for it (what was produced is billed).
    if (gone) return void chat.cancel(requestId);
    headers = {
      'x-switchyard-request-id': requestId,
      'x-switchyard-placement': placement.id,
      'x-switchyard-policy': headerValue(placement.policy),
      'x-switchyard-site': placement.chosen ?? '',
    };
    if (writer) {
      writer.start(headers);
      for (const piece of early!) {
        if (typeof piece === 'string') writer.delta(piece);
        else writer.toolCall(piece);
      }
      early = null;
    }
  }

  served(router, '/v1/chat/completions', { post: (req, res) => chatCompletions(req, res) });

  return { chatCompletions, router };
}
