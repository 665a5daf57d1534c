// The daemon's refusals and failures in OpenAI's error shape: {error: {message, type, param, code}}
// with an HTTP status the SDKs understand. Every such error carries `x-should-retry: false`: the daemon
// has already failed over across sites, and a blind SDK retry would only bill the user again.

import * as proto from '../protocol';
import { ChatError } from '../chat/service';
import { InvalidParams } from '../chat/validate';
import { PolicyError } from '../engine/policyBook';
import { BudgetExceededError, formatUsd } from '../meter';
import { refusalOf, type Refusal } from '../chat/refusal';
import { RequestError } from './request';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; switchyard?: unknown };
}

export interface OpenAIError {
  status: number;
  body: OpenAIErrorBody;
  /** For the metrics: why nothing was sent (absent for failures after a site was asked). */
  refusal?: Refusal;
}

export function openAIError(status: number, type: string, code: string | null, message: string, param: string | null = null, extra?: unknown): OpenAIError {
  return { status, body: { error: { message, type, param, code, ...(extra === undefined ? {} : { switchyard: extra }) } } };
}

/**
 * A refusal from ChatService.start (or the request mapping) as an OpenAI error. `capped`: whether the
 * request set max_tokens, which decides what a budget refusal advises.
 */
export function toOpenAIError(error: unknown, capped = true): OpenAIError {
  return { ...openAIErrorOf(error, capped), refusal: refusalOf(error) };
}

function openAIErrorOf(error: unknown, capped: boolean): OpenAIError {
  if (error instanceof BudgetExceededError) {
    const advice = capped ? 'lower max_tokens' : 'set max_tokens (without it, the longest answer the site can give is reserved)';
    return openAIError(402, 'insufficient_quota', 'budget_exceeded', `Switchyard: ${error.message}. Raise the budget or ${advice}.`, null, error.data);
  }
  if (error instanceof ChatError) {
    if (error.code === proto.ErrorCodes.UnknownModel) return openAIError(404, 'invalid_request_error', 'model_not_found', error.message, 'model');
    if (error.code === proto.ErrorCodes.NoEligibleSite) {
      const data = error.data as proto.NoEligibleSiteData | undefined;
      const reasons = data?.placement.candidates.filter((c) => c.rejected).map((c) => `${c.site.id}: ${c.rejected!.reason} (${c.rejected!.detail})`) ?? [];
      return openAIError(
        503,
        'service_unavailable',
        'no_eligible_site',
        `No site can take this request under policy "${data?.placement.policy ?? '?'}": ${error.message}${reasons.length ? `. Candidates: ${reasons.join('; ')}` : ''}`,
        null,
        data ? { placement: data.placement } : undefined,
      );
    }
    if (error.code === proto.ErrorCodes.TeamLedgerUnavailable) return openAIError(503, 'service_unavailable', 'team_ledger_unavailable', `Switchyard: ${error.message}`);
    return openAIError(500, 'server_error', null, error.message);
  }
  if (error instanceof RequestError) return openAIError(400, 'invalid_request_error', null, error.message, error.param);
  if (error instanceof PolicyError) {
    return openAIError(400, 'invalid_request_error', 'unknown_policy', `x-switchyard-policy: ${error.message}`);
  }
  if (error instanceof InvalidParams) {
    const message = openAIFields(error.message);
    return openAIError(400, 'invalid_request_error', null, message, message.split(/[ :]/)[0]);
  }
  return openAIError(500, 'server_error', null, `Switchyard internal error: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * validateChat's refusal of the params request.ts mapped (what it checks of a conversation: tool calls
 * and their answers), in the fields the client sent: the contract's messages[i].toolCallId and
 * toolCalls[j].name are OpenAI's tool_call_id and tool_calls[j].function.name.
 */
function openAIFields(message: string): string {
  return message
    .replace(/^params\./, '')
    .replace(/^(messages\[\d+\])\.toolCallId/, '$1.tool_call_id')
    .replace(/^(messages\[\d+\])\.toolCalls(\[\d+\]\.(?=name|arguments))?/, (_, m: string, call?: string) => `${m}.tool_calls${call ? `${call}function.` : ''}`);
}

/** A request that reached sites and failed on every one it tried (after failover). */
export function upstreamError(receipt: proto.Receipt): OpenAIError {
  const attempts = receipt.attempts.map((a) => a.message ?? `${a.siteId}: ${a.outcome}`).join('; ');
  if (receipt.outcome === 'cut') {
    return openAIError(
      502,
      'upstream_error',
      'upstream_cut',
      `The answer from ${receipt.site.id} was cut off after ${receipt.tokens.output} tokens and could not be continued; what was produced is billed (${formatUsd(receipt.cost.totalNanoUsd)}). Attempts: ${attempts}`,
    );
  }
  return openAIError(
    502,
    'upstream_error',
    'upstream_failed',
    `Every site tried failed (${receipt.attempts.length} attempt${receipt.attempts.length === 1 ? '' : 's'}): ${attempts}`,
  );
}
