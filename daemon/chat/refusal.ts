// Why a request was refused before any site was asked, whichever door it came in by (the editor's
// switchyard/chat or the OpenAI endpoint): the reason the metrics count it under.

import * as proto from '../protocol';
import { PolicyError } from '../engine/policyBook';
import { BudgetExceededError } from '../meter';
import { ChatError } from './service';
import { InvalidParams } from './validate';

export type Refusal = 'budget' | 'no_eligible_site' | 'unknown_model' | 'invalid_request';

/** The refusal an error from ChatService.start (or a request's mapping) stands for; undefined for an internal failure. */
export function refusalOf(error: unknown): Refusal | undefined {
  if (error instanceof BudgetExceededError) return 'budget';
  if (error instanceof ChatError) {
    if (error.code === proto.ErrorCodes.UnknownModel) return 'unknown_model';
    if (error.code === proto.ErrorCodes.NoEligibleSite) return 'no_eligible_site';
    if (error.code === proto.ErrorCodes.TeamLedgerUnavailable) return 'budget';
    return undefined;
  }
  if (error instanceof InvalidParams || error instanceof PolicyError) return 'invalid_request';
  return undefined;
}
