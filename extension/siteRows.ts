// The Sites view's rows, from switchyard/sites: each site's state and live figures, its models and
// their price cards. Pure (no vscode), so the unit tests read the words without an editor.

import { realIdOf } from '../daemon/catalog/twins';
import type { PriceCard, ProviderId, SiteInfo, SiteModelInfo, TeamStatus } from '../daemon/protocol';
import { count, ms, rate, siteLabel, usd } from '../media/format';

/** What the engine would do with the site now: place on it, probe it (half-open), skip it (open), or cannot. */
export type SiteState = 'serving' | 'rate-limited' | 'half-open' | 'open' | 'no key' | 'no address' | 'disabled' | 'stands down';

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
  /** Simulated twins whose real site has its key (and address): placement sends their requests there. */
  standingDown: SiteRow[];
  disabled: SiteRow[];
}

/** A collapsible group of the Sites view, below the serving sites. */
export interface GroupRow {
  /** Stable while the count in the label changes, so the tree keeps the group open across refreshes. */
  id: 'needKey' | 'standingDown' | 'disabled';
  label: string;
  tooltip: string;
  icon: string;
  rows: SiteRow[];
}

/** The groups that have sites, in the order the view shows them. */
export function groupRows(g: SiteGroups): GroupRow[] {
  const groups: GroupRow[] = [];
  if (g.needKey.length > 0) {
    groups.push({ id: 'needKey', label: `Need an API key (${g.needKey.length})`, icon: 'key', rows: g.needKey, tooltip: 'Real sites that stand aside until their provider\'s key is set with "Switchyard: Set API Key"; their simulated twins serve meanwhile.' });
  }
  if (g.standingDown.length > 0) {
    groups.push({ id: 'standingDown', label: `Twins standing down (${g.standingDown.length})`, icon: 'debug-pause', rows: g.standingDown, tooltip: 'Simulated twins of real sites that have their key: placement sends their requests to the real site, unless a request or policy names the twin itself.' });
  }
  if (g.disabled.length > 0) {
    groups.push({ id: 'disabled', label: `Disabled (${g.disabled.length})`, icon: 'circle-slash', rows: g.disabled, tooltip: 'Disabled in the catalog (the built-in fleet or your switchyard.catalogFile).' });
  }
  return groups;
}

export function siteGroups(sites: readonly SiteInfo[]): SiteGroups {
  const groups: SiteGroups = { serving: [], needKey: [], standingDown: [], disabled: [] };
  // As placement decides: a twin stands down while its real site can be placed (keyed, addressed, enabled).
  const placeable = new Set(sites.filter((s) => !s.site.simulated && s.unavailable === null).map((s) => s.site.id));
  const rows = sites.map((s) => siteRow(s, placeable)).sort((a, b) => a.label.localeCompare(b.label));
  for (const row of rows) {
    if (row.state === 'no key' || row.state === 'no address') groups.needKey.push(row);
    else if (row.state === 'disabled') groups.disabled.push(row);
    else if (row.state === 'stands down') groups.standingDown.push(row);
    else groups.serving.push(row);
  }
  return groups;
}

function stateOf(s: SiteInfo, placeable: ReadonlySet<string>): SiteState {
  if (s.unavailable === 'disabled') return 'disabled';
  if (s.unavailable === 'no key' || s.unavailable === 'no address') return s.unavailable;
  const real = s.site.simulated ? realIdOf(s.site.id) : null;
  if (real !== null && placeable.has(real)) return 'stands down';
  if (s.telemetry.breaker !== 'closed') return s.telemetry.breaker;
  return (s.telemetry.rateLimitedMs ?? 0) > 0 ? 'rate-limited' : 'serving';
}

const STATE_TEXT: Record<SiteState, string> = {
  serving: 'serving',
  'rate-limited': 'rate-limited: it said to wait (429, Retry-After), and placement leaves it alone until then',
  'half-open': 'circuit breaker half-open: the next request probes it',
  open: 'circuit breaker open after repeated failures: skipped until its cool-down ends',
  'no key': 'needs an API key: its simulated twin serves meanwhile',
  'no address': 'needs endpoint.baseUrl in the catalog file',
  disabled: 'disabled in the catalog',
  'stands down': 'stands down while its real site has its key: requests go there, unless they name the twin itself',
};

function siteRow(s: SiteInfo, placeable: ReadonlySet<string>): SiteRow {
  const t = s.telemetry;
  const state = stateOf(s, placeable);
  const live: string[] = [];
  // Samples count every result, failures too: a site that has only failed has no first token or speed yet.
  if (t.ttftMs !== null) live.push(`TTFT ${ms(t.ttftMs)}`);
  if (t.outputTokensPerSecond !== null) live.push(rate(t.outputTokensPerSecond));
  if (t.inFlight > 0) live.push(`${t.inFlight} in flight`);
  if (t.queueDepth) live.push(`${t.queueDepth} queued`);
  // Only what reads as more than nothing: the error rate decays towards 0 without reaching it, and a
  // provider's headers leave remaining = limit - 1 after every request.
  const errors = (t.errorRate * 100).toFixed(t.errorRate < 0.1 ? 1 : 0);
  if (Number(errors) > 0) live.push(`${errors}% errors`);
  if (Math.round(t.headroom * 100) < 100) live.push(`${Math.round(t.headroom * 100)}% rate-limit headroom`);
  const quiet = t.samples > 0 ? `${count(t.samples)} ${t.samples === 1 ? 'request' : 'requests'}, no timings yet` : 'no requests yet';
  const now = state === 'serving' ? (live.length > 0 ? live.join(' · ') : quiet)
    : state === 'half-open' || state === 'open' ? [`breaker ${state}`, ...live].join(' · ')
    : state === 'rate-limited' ? [`rate-limited for ${ms(t.rateLimitedMs ?? 0)}`, ...live].join(' · ')
    : state;
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
      ? `Measured over ${count(t.samples)} requests: ${[
        ...(t.ttftMs !== null ? [`time to first token ${ms(t.ttftMs)}`] : []),
        ...(t.outputTokensPerSecond !== null ? [rate(t.outputTokensPerSecond)] : []),
        `${(t.errorRate * 100).toFixed(1)}% errors`,
      ].join(', ')}.`
      : 'No requests measured yet: placement uses the catalog\'s figures.',
  ].join('\n');
  return { id: s.site.id, provider: s.site.provider, simulated: s.site.simulated, label: siteLabel(s.site), state, description, tooltip, models: s.models.map(modelRow) };
}


/** A price as published: cents, or every further digit the card quotes ($0.075, Gemini's cached $0.01875). */
function perMillion(value: number): string {
  return `$${value.toFixed(6).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
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
  if (p.requestFee) lines.push(`- ${perMillion(p.requestFee)} per request`);
  if (p.egressPerGB) lines.push(`- data transfer ${perMillion(p.egressPerGB)} per GB received`);
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
