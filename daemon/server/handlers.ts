// Binds each switchyard/ method of the contract to the daemon's parts for one editor connection, and
// turns the parts' refusals into JSON-RPC errors the editor can act on.

import { ErrorCodes as RpcErrorCodes, ResponseError, type Connection, type NotificationType } from 'vscode-languageserver/node';
import * as proto from '../protocol';
import { refusalOf } from '../chat/refusal';
import { ChatError } from '../chat/service';
import { InvalidParams, validateMessages } from '../chat/validate';
import { PolicyError } from '../engine/policyBook';
import { TeamProblem } from '../team';
import { siteInfos } from '../engine/site-info';
import { BudgetExceededError } from '../meter';
import { countPromptTokens, countTextTokens } from '../meter/estimate';
import type { Daemon } from './daemon';
import { apiKeyOf, checkBudgets, exportParamsOf, paramsOf, policyNameOf, windowOf, workspaceOf } from './params';

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
  // vscode-jsonrpc answers a thrown ResponseError as that error. A refusal may quote what the client
  // sent (a key pasted into the wrong field) and the editor logs it: it goes out masked, as a log line would.
  const handle = <P, R>(fn: (params: P) => R | Promise<R>) => async (params: P): Promise<R> => {
    try {
      return await fn(params);
    } catch (error) {
      const refusal = toResponseError(error);
      throw new ResponseError(refusal.code, daemon.redactor.text(refusal.message), refusal.data);
    }
  };

  connection.onRequest(proto.status, () => daemon.status());

  connection.onRequest(proto.endpoint, () => daemon.endpoint());

  connection.onRequest(proto.configure, handle((params: unknown) => daemon.configure(params)));

  connection.onRequest(proto.sites, () => siteInfos(parts.catalog.catalog, parts.telemetry, (p) => parts.credentials.has(p), parts.clock.now()));

  connection.onRequest(proto.policies, handle((raw: unknown) => parts.policies.list(workspaceOf(paramsOf(proto.policies, raw, true).workspace))));

  connection.onRequest(proto.setPolicy, handle((raw: unknown) => {
    const params = paramsOf(proto.setPolicy, raw);
    const name = policyNameOf(params.name, 'params.name');
    const workspace = workspaceOf(params.workspace);
    if (params.everywhere !== undefined && typeof params.everywhere !== 'boolean') throw new InvalidParams('params.everywhere must be true or false');
    parts.policies.setActive(name, workspace, params.everywhere === true);
    parts.saveSettings(parts.policies.choice());
    daemon.log.info('policy switched', { policy: name, workspace: workspace ?? null });
    return parts.policies.list(workspace);
  }));

  connection.onRequest(proto.setCredentials, handle((raw: unknown) => {
    const params = paramsOf(proto.setCredentials, raw);
    if (!PROVIDERS.includes(params.provider)) throw new InvalidParams(`params.provider must be one of ${PROVIDERS.join(', ')}`);
    const key = apiKeyOf(params.apiKey);
    if (key === null) parts.credentials.remove(params.provider);
    else parts.credentials.set(params.provider, key);
    daemon.log.info('credentials changed', { provider: params.provider, present: key !== null });
    return { providersWithKeys: parts.credentials.providers() };
  }));

  connection.onRequest(proto.setTeam, handle(async (raw: unknown) => {
    const status = await parts.team.set(paramsOf(proto.setTeam, raw));
    daemon.log.info('team sharing changed', { telemetry: status.server, ledger: status.ledger.server });
    return status;
  }));

  connection.onRequest(proto.setTeamBudget, handle(async (raw: unknown) => {
    const params = paramsOf(proto.setTeamBudget, raw);
    const status = await parts.team.setBudget(params.scope, params.capUsd);
    daemon.log.info('team budget set', { scope: params.scope, capUsd: params.capUsd });
    return status;
  }));

  connection.onRequest(proto.countTokens, handle((raw: unknown) => {
    const params = paramsOf(proto.countTokens, raw) as { text?: unknown; messages?: unknown };
    if ('text' in params) {
      if (typeof params.text !== 'string') throw new InvalidParams('params.text must be a string');
      return { tokens: countTextTokens(params.text) };
    }
    return { tokens: countPromptTokens(validateMessages(params.messages, 'params.messages', true)) };
  }));

  connection.onRequest(proto.placement, handle((raw: unknown) => {
    const params = paramsOf(proto.placement, raw);
    if (typeof params.id !== 'string' || params.id === '') throw new InvalidParams('params.id must be a placement id');
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

  connection.onRequest(proto.cancel, handle((raw: unknown) => {
    const params = paramsOf(proto.cancel, raw);
    if (typeof params.requestId !== 'string') throw new InvalidParams('params.requestId must be a string');
    return { cancelled: parts.chat.cancel(params.requestId) };
  }));

  // An answer goes out before its receipt is durable: spend asked for after it waits to count it.
  connection.onRequest(proto.spend, handle(async (raw: unknown) => {
    const workspace = workspaceOf(paramsOf(proto.spend, raw, true).workspace);
    await parts.meter.settled();
    return parts.meter.summary(workspace);
  }));

  connection.onRequest(proto.setBudget, handle((raw: unknown) => {
    const params = paramsOf(proto.setBudget, raw);
    const window = windowOf(params.workspace);
    checkBudgets(params.caps, 'params.caps');
    const statuses = parts.meter.setBudgets(params.caps, window);
    parts.saveSettings({ budgets: parts.meter.caps() });
    daemon.spendChanged();
    return statuses;
  }));

  connection.onRequest(proto.exportLedger, handle(async (raw: unknown) => parts.meter.exportLedger(await exportParamsOf(raw))));
}

export function toResponseError(error: unknown): ResponseError<unknown> {
  if (error instanceof BudgetExceededError) return new ResponseError(proto.ErrorCodes.BudgetExceeded, error.message, error.data);
  if (error instanceof ChatError) return new ResponseError(error.code, error.message, error.data);
  if (error instanceof InvalidParams || error instanceof PolicyError || error instanceof TeamProblem) return new ResponseError(RpcErrorCodes.InvalidParams, error.message);
  return new ResponseError(RpcErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
}
