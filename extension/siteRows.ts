// The Sites view's rows, from switchyard/sites: each site's state and live figures, its models and
// their price cards. Pure (no vscode), so the unit tests read the words without an editor.

import type { PriceCard, ProviderId, SiteInfo, SiteModelInfo, TeamStatus } from '../daemon/protocol';
import { count, dollars, ms, rate, siteLabel, usd } from '../media/format';

/** What the engine would do with the site now: place on it, probe it (half-open), skip it (open), or cannot. */
export type SiteState = 'serving' | 'half-open' | 'open' | 'no key' | 'no address' | 'disabled';

export interface ModelRow {
  label: string;
  description: string;
  tooltip: string;
}

export interface SiteRow {
  id: string;
  provider: ProviderId;
  simulated: boolean;
  /** provider · region · hardware */
  label: string;
  state: SiteState;
  description: string;
  /** Markdown. */
  tooltip: string;
  models: ModelRow[];
}

export interface SiteGroups {
  /** Sites placement can choose now, breakers open or not. */
  serving: SiteRow[];
  /** Real sites that stand aside until their provider's key (or their base URL) is set; their simulated twins serve meanwhile. */
  needKey: SiteRow[];
  disabled: SiteRow[];
}

export function siteGroups(sites: readonly SiteInfo[]): SiteGroups {
  const groups: SiteGroups = { serving: [], needKey: [], disabled: [] };
  const rows = sites.map(siteRow).sort((a, b) => a.label.localeCompare(b.label));
  for (const row of rows) {
    if (row.state === 'no key' || row.state === 'no address') groups.needKey.push(row);
    else if (row.state === 'disabled') groups.disabled.push(row);
    else groups.serving.push(row);
  }
  return groups;
}

function stateOf(s: SiteInfo): SiteState {
  if (s.unavailable === 'disabled') return 'disabled';
  if (s.unavailable === 'no key' || s.unavailable === 'no address') return s.unavailable;
  return s.telemetry.breaker === 'closed' ? 'serving' : s.telemetry.breaker;
}

const STATE_TEXT: Record<SiteState, string> = {
  serving: 'serving',
  'half-open': 'circuit breaker half-open: the next request probes it',
  open: 'circuit breaker open after repeated failures: skipped until its cool-down ends',
  'no key': 'needs an API key: its simulated twin serves meanwhile',
  'no address': 'needs endpoint.baseUrl in the catalog file',
  disabled: 'disabled in the catalog',
};

function siteRow(s: SiteInfo): SiteRow {
  const t = s.telemetry;
  const state = stateOf(s);
  const live: string[] = [];
  if (t.samples > 0) {
    live.push(`TTFT ${ms(t.ttftMs)}`, rate(t.outputTokensPerSecond));
  }
  if (t.inFlight > 0) live.push(`${t.inFlight} in flight`);
  if (t.queueDepth) live.push(`${t.queueDepth} queued`);
  if (t.errorRate > 0) live.push(`${(t.errorRate * 100).toFixed(t.errorRate < 0.1 ? 1 : 0)}% errors`);
  if (t.headroom < 1) live.push(`${Math.round(t.headroom * 100)}% rate-limit headroom`);
  const now = state === 'serving' ? (live.length > 0 ? live.join(' · ') : 'no requests yet') : state === 'half-open' || state === 'open' ? [`breaker ${state}`, ...live].join(' · ') : state;
  // The label stays short for a narrow sidebar; whether the site is simulated leads the description.
  const description = s.site.simulated ? `simulated · ${now}` : now;
  const tooltip = [
    `**${siteLabel(s.site, true)}**`,
    '',
    `${s.site.location} · endpoint \`${s.endpointKind}\` · id \`${s.site.id}\``,
    '',
    `State: ${STATE_TEXT[state]}.`,
    '',
    t.samples > 0
      ? `Measured over ${count(t.samples)} requests: time to first token ${ms(t.ttftMs)}, ${rate(t.outputTokensPerSecond)}, ${(t.errorRate * 100).toFixed(1)}% errors.`
      : 'No requests measured yet: placement uses the catalog\'s figures.',
  ].join('\n');
  return { id: s.site.id, provider: s.site.provider, simulated: s.site.simulated, label: siteLabel(s.site), state, description, tooltip, models: s.models.map(modelRow) };
}


/** A per-1M price as published: cents, or the tenths of a cent some cards quote ($0.075). */
function perMillion(value: number): string {
  return `$${value.toFixed(4).replace(/0{1,2}$/, '')}`;
}

const cached = (per1M: number | undefined) => (per1M !== undefined ? `, cached ${perMillion(per1M)}` : '');

function modelRow(m: SiteModelInfo): ModelRow {
  const p = m.price;
  const can = [m.images ? 'images' : '', m.tools ? 'tools' : ''].filter(Boolean);
  return {
    label: m.canonical,
    description: `${perMillion(p.inputPer1M)} in · ${perMillion(p.outputPer1M)} out per 1M · ${contextText(m.contextWindow)} context${can.length ? ` · ${can.join(', ')}` : ''}`,
    tooltip: [`**${m.canonical}** here is \`${m.providerModel}\``, '', ...priceLines(p), '', `Catalog speed: ${ms(m.ttftMs)} to first token, ${Math.round(m.outputTokensPerSecond)} tokens/s${m.maxOutputTokens ? `; answers up to ${count(m.maxOutputTokens)} tokens` : ''}.`].join('\n'),
  };
}

function contextText(tokens: number): string {
  return tokens >= 1_000_000 ? `${+(tokens / 1_000_000).toFixed(1)}M` : `${Math.round(tokens / 1000)}k`;
}

/** A price card as a user reads it: every term that applies, then where and when it was read. */
function priceLines(p: PriceCard): string[] {
  const oneHour = p.cacheWrite1hPer1M !== undefined ? ` (1 h: ${perMillion(p.cacheWrite1hPer1M)})` : '';
  const write = p.cacheWritePer1M !== undefined ? `, cache write ${perMillion(p.cacheWritePer1M)}${oneHour}` : oneHour ? `, 1-hour cache write ${perMillion(p.cacheWrite1hPer1M!)}` : '';
  const lines = [`- input ${perMillion(p.inputPer1M)} per 1M tokens${cached(p.cachedInputPer1M)}${write}`, `- output ${perMillion(p.outputPer1M)} per 1M tokens`];
  if (p.tier) lines.push(`- above ${count(p.tier.aboveInputTokens)} input tokens: input ${perMillion(p.tier.inputPer1M)}${cached(p.tier.cachedInputPer1M)}${p.tier.outputPer1M !== undefined ? `, output ${perMillion(p.tier.outputPer1M)}` : ''} per 1M`);
  if (p.requestFee) lines.push(`- ${dollars(p.requestFee)} per request`);
  if (p.egressPerGB) lines.push(`- data transfer ${dollars(p.egressPerGB)} per GB received`);
  lines.push(`- read ${p.readOn}${p.source ? ` from ${p.source}` : ''}${p.note ? `; ${p.note}` : ''}`);
  return lines;
}

export interface TeamRow {
  label: string;
  description: string;
  tooltip: string;
  /** The link to the team's server is down or not up yet, or a team budget is spent. */
  trouble: boolean;
  /** What a click runs: change or stop sharing. */
  command: string;
}

/** The Sites view's first row while telemetry is shared with a team; null when it is not. */
export function teamRow(t: TeamStatus): TeamRow | null {
  if (t.telemetry === 'off') return null;
  const teammates = t.peers === 1 ? '1 teammate' : `${t.peers} teammates`;
  const description = t.telemetry === 'connected' ? `${teammates} · ${t.server}` : t.telemetry === 'connecting' ? `connecting to ${t.server}…` : `unreachable: ${t.error ?? t.server}`;
  return {
    label: 'Team telemetry',
    description,
    tooltip: [
      `Shared through the team's Redis at ${t.server}: what this daemon learns about real sites (speed, errors, breakers, rate limits) and what teammates' daemons learn. Simulated sites stay this daemon's own.`,
      `${count(t.published)} shared, ${count(t.received)} taken from ${teammates} heard in the last 5 minutes.`,
      ...(t.telemetry === 'unreachable' ? [`Not reached now (${t.error}); it keeps trying, and placement goes on from this daemon's own measurements.`] : []),
      'Click to change or stop sharing.',
    ].join('\n\n'),
    trouble: t.telemetry !== 'connected',
    command: 'switchyard.shareTelemetry',
  };
}

/** The Sites view's row for the team ledger: the team's spend at real sites and its budgets; null when not connected to one. */
export function ledgerRow({ ledger: l }: TeamStatus): TeamRow | null {
  if (l.state === 'off') return null;
  const budgets = l.budgets.map((b) => `${usd(b.spentNanoUsd)} of ${usd(b.capNanoUsd)} ${b.scope === 'day' ? 'today' : 'this month'}`);
  const spend = budgets.length ? budgets.join(' · ') : `${usd(l.spentTodayNanoUsd)} today · ${usd(l.spentMonthNanoUsd)} this month`;
  const description = l.state === 'connected' ? spend : l.state === 'connecting' ? `connecting to ${l.server}…` : `unreachable: ${l.error ?? l.server}`;
  const exceeded = l.budgets.filter((b) => b.state === 'exceeded');
  return {
    label: 'Team ledger',
    description,
    tooltip: [
      `The team's receipts at real sites, on its PostgreSQL at ${l.server}; this daemon records as ${l.member}. Days and months are UTC. Simulated sites cost nothing real and are left out.`,
      `Spent ${usd(l.spentTodayNanoUsd)} today and ${usd(l.spentMonthNanoUsd)} this month; ${usd(l.reservedNanoUsd)} held by requests in flight.`,
      ...l.budgets.map((b) => `Team ${b.scope === 'day' ? 'daily' : 'monthly'} budget ${usd(b.capNanoUsd)} (set by ${b.setBy}): ${b.state === 'exceeded' ? 'spent, so requests to real sites are refused' : b.state === 'warn' ? 'nearly spent' : 'ok'}.`),
      ...(l.members.length ? [`This month by member: ${l.members.map((m) => `${m.member} ${usd(m.spentMonthNanoUsd)}`).join(', ')}.`] : []),
      ...(l.behind ? ['Some of this daemon\'s receipts have not reached the team ledger yet; they are sent when it is back.'] : []),
      ...(l.state === 'unreachable' ? [`Not reached now (${l.error}); it keeps trying. While the team has budgets, requests to real sites wait for it: they are refused rather than sent unchecked.`] : []),
      'Click to change or disconnect the team ledger; "Switchyard: Set Team Budget" sets the caps.',
    ].join('\n\n'),
    trouble: l.state !== 'connected' || exceeded.length > 0,
    command: 'switchyard.connectTeamLedger',
  };
}
