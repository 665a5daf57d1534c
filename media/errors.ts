// Turns a failed switchyard/chat into something the panel can show in place: what happened, the
// numbers, and what to do. Pure (the host calls it with the JSON-RPC error's code, message and data).

import { ErrorCodes, type BudgetExceededData, type BudgetStatus, type Candidate, type NoEligibleSiteData, type RejectReason } from '../daemon/protocol';
import { siteLabel, usd } from './format';
import type { PanelAction, PanelError } from './messages';

const SCOPE_NAME = { day: 'Daily', month: 'Monthly', workspace: 'Workspace' } as const;

const REASON_TEXT: Record<RejectReason, string> = {
  model: 'does not serve the model',
  disabled: 'disabled',
  'no key': 'no API key',
  'no address': 'no endpoint.baseUrl in the catalog',
  residency: 'outside the allowed regions',
  hardware: 'hardware not allowed',
  context: 'context window too small',
  breaker: 'circuit breaker open',
  threshold: 'over a policy threshold',
  budget: 'would exceed the budget',
  pinned: 'not the pinned site',
  capability: 'cannot do what the request needs',
};

export interface ErrorInput {
  code?: number;
  message: string;
  data?: unknown;
  model: string;
  policy: string;
  /** True when the request never reached the daemon (not connected, socket closed). */
  unreachable?: boolean;
  /** The budgets as last known (spendChanged), to name the cap when placement refused for budget. */
  budgets?: BudgetStatus[];
}

/** Reasons in the order a user should read them: the ones a policy or budget change can fix first. */
const REASON_ORDER: RejectReason[] = ['budget', 'threshold', 'residency', 'hardware', 'context', 'capability', 'breaker', 'pinned', 'no key', 'no address', 'disabled', 'model'];

/** What helps when the daemon is out of reach. */
const DAEMON_ACTIONS: PanelAction[] = [
  { label: 'Restart Daemon', command: 'switchyard.restartDaemon' },
  { label: 'Show Logs', command: 'switchyard.showLogs' },
];

export function describeError(e: ErrorInput): PanelError {
  if (e.unreachable) {
    return {
      kind: 'unreachable',
      title: 'The Switchyard daemon is not reachable',
      detail: [e.message, 'Your prompt was not sent and nothing was billed. Restart the daemon, or read the logs for why it stopped.'],
      actions: DAEMON_ACTIONS,
    };
  }
  const data = (e.data ?? undefined) as { kind?: string } | undefined;
  if (e.code === ErrorCodes.BudgetExceeded || data?.kind === 'budget') return budgetError(e, data as BudgetExceededData | undefined);
  if (e.code === ErrorCodes.TeamLedgerUnavailable) {
    return {
      kind: 'budget',
      title: 'The team\'s budgets cannot be checked right now',
      detail: [e.message, 'Nothing was sent: requests to real sites wait for the team ledger, so that no team cap is overrun. The simulated fleet still answers.'],
      actions: [{ label: 'Connect Team Ledger…', command: 'switchyard.connectTeamLedger' }, { label: 'Show Logs', command: 'switchyard.showLogs' }],
    };
  }
  if (e.code === ErrorCodes.NoEligibleSite || data?.kind === 'no-eligible-site') return noSiteError(e, (data as NoEligibleSiteData | undefined)?.placement);
  if (e.code === ErrorCodes.UnknownModel) {
    return {
      kind: 'unknown-model',
      title: `No site in the catalog offers "${e.model}"`,
      detail: [e.message, 'Pick another model, or add a site that offers it to your catalog file (switchyard.catalogFile).'],
      actions: [],
    };
  }
  if (e.code === ErrorCodes.UpstreamFailed) {
    return {
      kind: 'upstream',
      title: 'Every site that was tried failed',
      detail: [e.message, 'Try again in a moment, or switch to a policy that allows other sites.'],
      actions: [{ label: 'Switch Policy', command: 'switchyard.switchPolicy' }, { label: 'Show Logs', command: 'switchyard.showLogs' }],
    };
  }
  return { kind: 'other', title: 'The request failed', detail: [e.message], actions: [{ label: 'Show Logs', command: 'switchyard.showLogs' }] };
}

/**
 * An answer under way when the connection to the daemon dropped. Unlike a prompt that never reached
 * the daemon, it was sent: what the site produced is billed.
 */
export function droppedError(): PanelError {
  return {
    kind: 'unreachable',
    title: 'The connection to the daemon dropped during this answer',
    detail: ['What the site produced before the drop is billed.', 'Send the prompt again once Switchyard is reconnected: restart the daemon, or read the logs for why it stopped.'],
    actions: DAEMON_ACTIONS,
  };
}

function budgetError(e: ErrorInput, d: BudgetExceededData | undefined): PanelError {
  if (!d) {
    return { kind: 'budget', title: 'Budget exhausted', detail: [e.message, 'Raise the budget or wait for the next period.'],
      actions: [{ label: 'Set Budget', command: 'switchyard.setBudget' }, { label: 'Show Spend', command: 'switchyard.showSpend' }] };
  }
  const cap = `${d.team ? 'Team ' : ''}${SCOPE_NAME[d.scope] ?? d.scope}`;
  const where = d.scope === 'workspace' && d.workspace ? ` (${d.workspace})` : d.team ? ' (UTC)' : '';
  const period = d.scope === 'day' ? 'tomorrow' : d.scope === 'month' ? 'next month' : 'when you raise it';
  const command = d.team ? 'Switchyard: Set Team Budget' : 'Switchyard: Set Budget';
  return {
    kind: 'budget',
    title: `${cap} budget exhausted${where}: ${usd(Math.max(0, d.remainingNanoUsd))} left of ${usd(d.capNanoUsd)}`,
    detail: [
      `${d.team ? 'The team spent' : 'Spent'} ${usd(d.spentNanoUsd)}${d.reservedNanoUsd > 0 ? `, ${usd(d.reservedNanoUsd)} reserved by requests in flight` : ''}; this request could cost up to ${usd(d.worstCaseNanoUsd)}.`,
      `Nothing was sent. Raise the ${cap.toLowerCase()} cap with "${command}", pick a cheaper model or policy, or wait until the cap resets (${period}).`,
    ],
    actions: [d.team ? { label: 'Set Team Budget', command: 'switchyard.setTeamBudget' } : { label: 'Set Budget', command: 'switchyard.setBudget' }, { label: 'Show Spend', command: 'switchyard.showSpend' }],
  };
}

function siteName(c: Candidate): string {
  return siteLabel(c.site);
}

function noSiteError(e: ErrorInput, placement: NoEligibleSiteData['placement'] | undefined): PanelError {
  const candidates = placement?.candidates ?? [];
  const serving = candidates.filter((c) => c.rejected?.reason !== 'model');
  const noKey = serving.filter((c) => c.rejected?.reason === 'no key');
  if (serving.length > 0 && noKey.length === serving.length) {
    const providers = [...new Set(noKey.map((c) => c.site.provider))];
    const only = serving.length === 1 ? `Only ${siteName(serving[0])} serves ${e.model}` : `The sites that serve ${e.model} (${serving.map(siteName).join('; ')}) all need a key`;
    return {
      kind: 'no-key',
      title: `No API key for ${providers.join(', ')}`,
      detail: [`${only}, and Switchyard has no API key for ${providers.join(' or ')}.`, `Add one with "Switchyard: Set API Key" (it is kept in the editor's secret storage), or pick another model.`],
      actions: providers.map((p) => ({ label: `Set API Key for ${p}`, command: 'switchyard.setApiKey' as const, args: [p] })),
      placement,
    };
  }
  const fixable = serving.filter((c) => c.rejected?.reason !== 'no key' && c.rejected?.reason !== 'no address' && c.rejected?.reason !== 'disabled');
  if (fixable.length > 0 && fixable.every((c) => c.rejected?.reason === 'budget')) {
    const cheapest = fixable.reduce((a, b) => (b.cost.totalNanoUsd < a.cost.totalNanoUsd ? b : a));
    const binding = [...(e.budgets ?? [])].sort((a, b) => remaining(a) - remaining(b))[0];
    if (binding) {
      const worstCase = Number(/worst case \$([\d.]+)/.exec(cheapest.rejected?.detail ?? '')?.[1] ?? NaN);
      return {
        ...budgetError(e, {
          kind: 'budget', scope: binding.scope, workspace: binding.workspace, capNanoUsd: binding.capNanoUsd, spentNanoUsd: binding.spentNanoUsd,
          reservedNanoUsd: binding.reservedNanoUsd, remainingNanoUsd: remaining(binding),
          worstCaseNanoUsd: Number.isFinite(worstCase) ? Math.round(worstCase * 1e9) : cheapest.cost.totalNanoUsd,
        }),
        placement,
      };
    }
    return { ...budgetError(e, undefined), detail: [`Every site that serves ${e.model} could cost more than the budget has left (${cheapest.rejected?.detail ?? ''}).`, 'Raise the budget with "Switchyard: Set Budget", or wait until the cap resets.'], placement };
  }
  const byReason = new Map<RejectReason, Candidate[]>();
  for (const c of [...serving].sort((a, b) => REASON_ORDER.indexOf(a.rejected?.reason ?? 'model') - REASON_ORDER.indexOf(b.rejected?.reason ?? 'model'))) {
    if (!c.rejected) continue;
    const list = byReason.get(c.rejected.reason) ?? [];
    list.push(c);
    byReason.set(c.rejected.reason, list);
  }
  const detail: string[] = [];
  if (serving.length === 0) detail.push(`No site in the catalog serves ${e.model}.`);
  for (const [reason, list] of byReason) {
    // A real site disabled with its twin reads the same twice: once is enough.
    const examples = [...new Set(list.map((c) => `${siteName(c)}${c.rejected?.detail ? ` (${c.rejected.detail})` : ''}`))];
    detail.push(`${REASON_TEXT[reason] ?? reason}: ${examples.slice(0, 3).join('; ')}${examples.length > 3 ? ` and ${examples.length - 3} more` : ''}`);
  }
  // A policy cannot give a site a capability (seeing images, calling tools): another model or a key can.
  if (fixable.length > 0 && fixable.every((c) => c.rejected?.reason === 'capability')) {
    detail.push('Simulated sites answer with text only. Pick a model with a real site that can (for images, the line above the prompt names them), and set that provider\'s API key.');
    return {
      kind: 'no-eligible-site',
      title: `No site for ${e.model} can do what this request needs`,
      detail,
      actions: [{ label: 'Set API Key', command: 'switchyard.setApiKey' }],
      placement,
    };
  }
  detail.push(`Switch to a policy with looser constraints than "${e.policy}", or pick another model.`);
  return {
    kind: 'no-eligible-site',
    title: `No eligible site for ${e.model} under "${e.policy}"`,
    detail,
    actions: [{ label: 'Switch Policy', command: 'switchyard.switchPolicy' }],
    placement,
  };
}

function remaining(b: BudgetStatus): number {
  return Math.max(0, b.capNanoUsd - b.spentNanoUsd - b.reservedNanoUsd);
}

/** A candidate's row verdict: chosen, eligible but scored lower, or why it was passed over. */
export function verdictOf(c: Candidate, chosen: string | null): string {
  return c.site.id === chosen ? 'chosen' : c.rejected ? rejectionText(c.rejected) : 'eligible, scored lower';
}

/** Why a candidate was passed over, for its row: the reason, then the detail, unless the detail already says it ("no API key for groq"). */
export function rejectionText(rejected: NonNullable<Candidate['rejected']>): string {
  const label = REASON_TEXT[rejected.reason] ?? rejected.reason;
  if (!rejected.detail) return label;
  return rejected.detail.toLowerCase().startsWith(label.toLowerCase()) ? rejected.detail : `${label}: ${rejected.detail}`;
}
