// Binds each switchyard/ method of the contract to the daemon's parts for one editor connection, and
// turns the parts' refusals into JSON-RPC errors the editor can act on.

import path from 'node:path';
import { ErrorCodes as RpcErrorCodes, ResponseError, type Connection, type NotificationType } from 'vscode-languageserver/node';
import * as proto from '../protocol';
import { refusalOf } from '../chat/refusal';
import { ChatError } from '../chat/service';
import { InvalidParams, validateMessages } from '../chat/validate';
import { PolicyError } from '../engine/policyBook';
import { TeamProblem } from '../team';
import { siteInfos } from '../engine/site-info';
import { BudgetExceededError } from '../meter';
import { capsFromWindow, validateCaps } from '../meter/budgets';
import { countPromptTokens, countTextTokens } from '../meter/estimate';
import type { Daemon } from './daemon';

/** A budget-setting window's workspace (SetBudgetParams.workspace): a key, null for none, undefined when not said. */
export function windowOf(raw: unknown): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  if (typeof raw === 'string' && raw.trim() !== '') return raw;
  throw new InvalidParams('params.workspace must be a workspace key (a non-empty string) or null');
}

/** The caps a window's budgets would leave in force (see capsFromWindow) are valid; else InvalidParams naming `field`. */
export function checkBudgets(current: proto.BudgetCap[], sent: unknown, window: string | null | undefined, field: string): asserts sent is proto.BudgetCap[] {
  if (!Array.isArray(sent)) throw new InvalidParams(`${field} must be an array of budget caps`);
  try {
    validateCaps(capsFromWindow(current, sent as proto.BudgetCap[], window));
  } catch (error) {
    throw new InvalidParams((error as Error).message);
  }
}

const PROVIDERS: readonly proto.ProviderId[] = [
  'simulated', 'openai', 'azure-openai', 'anthropic', 'google', 'groq', 'together', 'fireworks', 'mistral', 'openrouter', 'bedrock', 'replicate', 'openai-compatible',
];

/** The ledger's name for requests from editor connections (with the request's `via`, e.g. "editor:vscode.lm"). */
const EDITOR_CLIENT = 'editor';

/** `owner` names this connection (editor-N): its requests are cancelled when it closes. */
export function registerHandlers(connection: Connection, daemon: Daemon, owner: string): void {
  // A request outlives its window (closed, reloaded): its last notifications then have nobody to go to,
  // and the connection throws on a send. The request goes on to its receipt all the same.
  const tell = <P>(type: NotificationType<P>, params: P): void => {
    try {
      // The generic overloads cannot relate P to their RequestParam<P>; the contract types params already.
      connection.sendNotification(type, params as never).catch(() => {});
    } catch {
      // Closed: nobody to tell.
    }
  };
  const parts = daemon.parts;
  // vscode-jsonrpc answers a thrown ResponseError as that error.
  const handle = <P, R>(fn: (params: P) => R | Promise<R>) => async (params: P): Promise<R> => {
    try {
      return await fn(params);
    } catch (error) {
      throw toResponseError(error);
    }
  };

  connection.onRequest(proto.status, () => daemon.status());

  connection.onRequest(proto.endpoint, () => daemon.endpoint());

  connection.onRequest(proto.configure, handle((params: proto.ConfigureParams) => daemon.configure(params ?? {})));

  connection.onRequest(proto.sites, () => siteInfos(parts.catalog.catalog, parts.telemetry, (p) => parts.credentials.has(p), parts.clock.now()));

  connection.onRequest(proto.policies, handle((params: { workspace?: string } | undefined) => parts.policies.list(params?.workspace)));

  connection.onRequest(proto.setPolicy, handle((params: proto.SetPolicyParams) => {
    if (typeof params?.name !== 'string') throw new InvalidParams('params.name must be a policy name');
    parts.policies.setActive(params.name, params.workspace);
    parts.saveSettings(parts.policies.choice());
    daemon.log.info('policy switched', { policy: params.name, workspace: params.workspace ?? null });
    return parts.policies.list(params.workspace);
  }));

  connection.onRequest(proto.setCredentials, handle((params: proto.SetCredentialsParams) => {
    if (!PROVIDERS.includes(params?.provider)) throw new InvalidParams(`params.provider must be one of ${PROVIDERS.join(', ')}`);
    if (params.apiKey === null) parts.credentials.remove(params.provider);
    else if (typeof params.apiKey === 'string' && params.apiKey.trim().length >= 8) parts.credentials.set(params.provider, params.apiKey.trim());
    else throw new InvalidParams('params.apiKey must be a key of at least 8 characters, or null to remove it');
    daemon.log.info('credentials changed', { provider: params.provider, present: params.apiKey !== null });
    return { providersWithKeys: parts.credentials.providers() };
  }));

  connection.onRequest(proto.setTeam, handle(async (params: proto.SetTeamParams) => {
    if (typeof params !== 'object' || params === null) throw new InvalidParams('params must be an object with telemetryUrl and/or ledgerUrl');
    const status = await parts.team.set(params);
    daemon.log.info('team sharing changed', { telemetry: status.server, ledger: status.ledger.server });
    return status;
  }));

  connection.onRequest(proto.setTeamBudget, handle(async (params: proto.SetTeamBudgetParams) => {
    const status = await parts.team.setBudget(params?.scope, params?.capUsd);
    daemon.log.info('team budget set', { scope: params.scope, capUsd: params.capUsd });
    return status;
  }));

  connection.onRequest(proto.countTokens, handle((params: proto.CountTokensParams) => {
    if ('text' in (params ?? {})) {
      const text = (params as { text: unknown }).text;
      if (typeof text !== 'string') throw new InvalidParams('params.text must be a string');
      return { tokens: countTextTokens(text) };
    }
    return { tokens: countPromptTokens(validateMessages((params as { messages?: unknown } | undefined)?.messages, 'params.messages', true)) };
  }));

  connection.onRequest(proto.placement, handle((params: proto.PlacementParams) => {
    if (typeof params?.id !== 'string' || params.id === '') throw new InvalidParams('params.id must be a placement id');
    return parts.chat.placement(params.id) ?? null;
  }));

  connection.onRequest(proto.previewChat, handle((params: proto.ChatParams) => parts.chat.preview(params)));

  connection.onRequest(proto.chat, handle(async (params: proto.ChatParams) => {
    try {
      return await parts.chat.start(params, EDITOR_CLIENT, (requestId) => ({
        delta: (text) => tell(proto.chatDelta, { requestId, text }),
        toolCall: (toolCall) => tell(proto.chatDelta, { requestId, text: '', toolCall }),
        attempt: (attempt) => tell(proto.chatAttempt, { requestId, ...attempt }),
        receipt: (receipt) => tell(proto.receipt, { requestId, receipt }),
      }), owner);
    } catch (error) {
      // Counted like the OpenAI endpoint's refusals, so /metrics sees every door.
      const refusal = refusalOf(error);
      if (refusal) daemon.metrics.refused(refusal);
      throw error;
    }
  }));

  connection.onRequest(proto.cancel, handle((params: proto.CancelParams) => {
    if (typeof params?.requestId !== 'string') throw new InvalidParams('params.requestId must be a string');
    return { cancelled: parts.chat.cancel(params.requestId) };
  }));

  // An answer goes out before its receipt is durable: spend asked for after it waits to count it.
  connection.onRequest(proto.spend, handle(async (params: proto.SpendParams | undefined) => {
    await parts.meter.settled();
    return parts.meter.summary(params?.workspace);
  }));

  connection.onRequest(proto.setBudget, handle((params: proto.SetBudgetParams) => {
    const window = windowOf(params?.workspace);
    checkBudgets(parts.meter.caps(), params?.caps, window, 'params.caps');
    const statuses = parts.meter.setBudgets(params.caps, window);
    parts.saveSettings({ budgets: parts.meter.caps() });
    daemon.spendChanged();
    return statuses;
  }));

  connection.onRequest(proto.exportLedger, handle((params: proto.ExportLedgerParams) => {
    if (typeof params?.path !== 'string' || !path.isAbsolute(params.path)) throw new InvalidParams('params.path must be an absolute file path');
    if (params.format !== 'csv' && params.format !== 'json') throw new InvalidParams('params.format must be "csv" or "json"');
    return parts.meter.exportLedger(params);
  }));
}

export function toResponseError(error: unknown): ResponseError<unknown> {
  if (error instanceof BudgetExceededError) return new ResponseError(proto.ErrorCodes.BudgetExceeded, error.message, error.data);
  if (error instanceof ChatError) return new ResponseError(error.code, error.message, error.data);
  if (error instanceof InvalidParams || error instanceof PolicyError || error instanceof TeamProblem) return new ResponseError(RpcErrorCodes.InvalidParams, error.message);
  return new ResponseError(RpcErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
}
