// The prompt panel's state and everything that changes it: a pure reducer over the messages the host
// sends and the panel's own UI events (which are also posted to the host, so the host keeps a mirror
// it can restore a reloaded webview from). No DOM here: unit tests drive it directly.

import { ErrorCodes, type Candidate, type ChatMessage, type Placement, type Receipt, type SiteInfo, type SiteRef } from '../daemon/protocol';
import { describeError, verdictOf } from './errors';
import { twinId } from '../daemon/catalog/twins';
import { count, ms, rate, siteLabel, usd } from './format';
import { MAX_ATTACHMENTS, type ImageAttachment } from './images';
import { isImageAttachment, isPromptContext } from './messageChecks';
import type { HostMessage, ModelChoice, PanelAction, PanelError, PanelState, Preview, PromptContext, Turn, WebviewMessage } from './messages';

export type PanelEvent = HostMessage | WebviewMessage;

/** How many turns a panel keeps (and persists); older ones drop off the top. */
export const MAX_TURNS = 100;

export function initialState(): PanelState {
  return { turns: [], models: [], model: '', policies: [], activePolicy: '', policyScope: 'global', connected: false, draft: '' };
}

export function isFinal(turn: Turn): boolean {
  return turn.status !== 'placing' && turn.status !== 'streaming';
}

export function inFlight(state: PanelState): Turn | undefined {
  return state.turns.find((t) => !isFinal(t));
}

function updateTurn(state: PanelState, turnId: string, change: (turn: Turn) => Turn): PanelState {
  let changed = false;
  const turns = state.turns.map((t) => {
    if (t.id !== turnId) return t;
    const next = change(t);
    changed ||= next !== t;
    return next;
  });
  return changed ? { ...state, turns } : state;
}

/**
 * The host's state for a webview that has just loaded, with what the user did in the webview before it
 * arrived applied again on top: the host sent it before those events reached it (it has them now), so
 * taken alone it would undo a model chosen or a draft typed in the first moments.
 */
export function restoreWith(state: PanelState, restore: Extract<PanelEvent, { type: 'restore' }>, early: readonly PanelEvent[]): PanelState {
  return early.reduce(reduce, reduce(state, restore));
}

export function reduce(state: PanelState, event: PanelEvent): PanelState {
  switch (event.type) {
    case 'restore':
      // The host's live state, taken as it is: a webview re-created by a tab switch goes on with the answer
      // still streaming. The host marked what a reload interrupted when it read its saved state back.
      return event.state;
    case 'connection':
      return state.connected === event.connected ? state : { ...state, connected: event.connected };
    case 'models': {
      const ids = event.models.map((m) => m.id);
      // The model in use stays while it is offered: a list refreshed after a key or catalog change must not undo a choice just made.
      const wanted = [state.model, event.preferred].find((m) => m && ids.includes(m));
      const model = wanted ?? event.models.find((m) => m.available > 0)?.id ?? ids[0] ?? '';
      return { ...state, models: event.models, model };
    }
    case 'policies':
      return { ...state, policies: event.policies, activePolicy: event.active, policyScope: event.scope };
    case 'context':
      return { ...state, pendingContext: event.context, draft: event.prompt ?? state.draft };
    case 'turnStarted': {
      const turns = [...state.turns, event.turn].slice(-MAX_TURNS);
      // Asking an earlier prompt again leaves what the user is composing alone.
      if (event.turn.rerunOf) return { ...state, turns };
      return { ...state, turns, draft: '', pendingContext: undefined, pendingImages: undefined, preview: undefined };
    }
    case 'placed':
      return updateTurn(state, event.turnId, (t) => ({ ...t, requestId: event.requestId, placement: event.placement, status: t.status === 'placing' ? 'streaming' : t.status }));
    case 'delta':
      return updateTurn(state, event.turnId, (t) => {
        if (isFinal(t) && t.status !== 'done') return t;
        return { ...t, text: t.text + event.text, firstTokenAt: t.firstTokenAt ?? event.at, lastDeltaAt: event.at, status: t.status === 'placing' ? 'streaming' : t.status };
      });
    case 'attempt':
      return updateTurn(state, event.turnId, (t) => ({ ...t, attempts: [...t.attempts, event.attempt] }));
    case 'receipt':
      // A turn the user stopped stays stopped: the text after the Stop was not shown, so even a receipt
      // that crossed it ("complete") ends no whole answer. It still tells what was billed.
      // A cancelled receipt for a turn nobody here stopped (the user's Stop and the host's mark the turn
      // first) is the daemon stopping every answer as it shuts down or restarts: that is no Cancel.
      return updateTurn(state, event.turnId, (t) => (t.status === 'cancelled' ? { ...t, receipt: event.receipt }
        : { ...t, receipt: event.receipt, status: statusFromReceipt(event.receipt), error: receiptError(event.receipt) ?? t.error }));
    case 'failed':
      // Refused or dropped after the user's Stop: nothing they need to act on.
      return updateTurn(state, event.turnId, (t) => (t.status === 'cancelled' ? t : { ...t, status: 'error', error: event.error }));
    // The user's Stop ('cancel', applied by the webview as it is pressed and by the host's mirror as it
    // arrives) and the host's: the turn reads cancelled at once, before the daemon has named the request
    // to stop, and what arrives for it afterwards (placement, tokens) never draws it as running again.
    case 'cancel':
    case 'cancelled':
      return updateTurn(state, event.turnId, (t) => (isFinal(t) ? t : { ...t, status: 'cancelled' }));
    case 'cleared':
    case 'clear':
      return { ...state, turns: [] };
    case 'togglePlacement':
      return updateTurn(state, event.turnId, (t) => ({ ...t, showPlacement: !t.showPlacement }));
    case 'setModel':
      return state.model === event.model ? state : { ...state, model: event.model };
    case 'setPolicy':
      return state;
    case 'draft':
      return state.draft === event.text ? state : { ...state, draft: event.text };
    case 'dropContext':
      return { ...state, pendingContext: undefined };
    case 'attach': {
      const images = [...(state.pendingImages ?? []), ...event.images].slice(0, MAX_ATTACHMENTS);
      return { ...state, pendingImages: images };
    }
    case 'detach': {
      const images = (state.pendingImages ?? []).filter((_, i) => i !== event.index);
      return { ...state, pendingImages: images.length > 0 ? images : undefined };
    }
    case 'preview':
      // No preview is asked while an answer is in flight: one arriving now was asked for the prompt just
      // sent (the send overtook the daemon's answer), and would be shown for it once the answer is in.
      // "run here" leaves the draft in the box, so its preview still holds.
      if (state.turns.some((t) => !isFinal(t) && !t.rerunOf)) return state;
      return { ...state, preview: event.preview ?? undefined };
    case 'ready':
    case 'send':
    case 'askPreview':
    case 'command':
    case 'copyCode':
    case 'insertCode':
      return state;
  }
}

function statusFromReceipt(r: Receipt): Turn['status'] {
  switch (r.outcome) {
    case 'complete':
    case 'length':
    case 'cut':
      return 'done';
    // Only a cancel nobody here asked for gets this far (see 'receipt').
    case 'cancelled':
    case 'error':
      return 'error';
  }
}

function receiptError(r: Receipt): Turn['error'] | undefined {
  if (r.outcome === 'cancelled') {
    return {
      kind: 'unreachable',
      title: 'The daemon stopped this answer before it ended',
      detail: ['It was shutting down or restarting ("Restart Daemon", in this window or another).', `What the site produced before then is billed: ${usd(r.cost.totalNanoUsd)}.`,
        'Send the prompt again once Switchyard is reconnected.'],
      actions: [{ label: 'Restart Daemon', command: 'switchyard.restartDaemon' }, { label: 'Show Logs', command: 'switchyard.showLogs' }],
    };
  }
  if (r.outcome !== 'error') return undefined;
  return {
    kind: 'upstream',
    title: 'The answer failed',
    detail: [r.error ?? 'the site returned an error', `What was produced before the failure is billed: ${usd(r.cost.totalNanoUsd)}.`],
    actions: [{ label: 'Show Logs', command: 'switchyard.showLogs' }],
  };
}

/**
 * A saved state, checked, with its answers as they were: what a webview shows until the host's `restore`
 * arrives. A tab switch re-creates the webview while an answer may still be streaming.
 *
 * What VS Code hands back was saved by whichever version of the panel ran then, or is not a state at all:
 * each part that is not of the shape drawing it needs goes (a turn keeps its words), as one that throws
 * would leave the panel blank, and the host would restore the same state into every webview it opens.
 */
export function readSavedState(saved: Partial<PanelState> | undefined | null): PanelState {
  const base = initialState();
  if (!isRecord(saved)) return base;
  const s = saved as Record<string, unknown>;
  const turns = (Array.isArray(s.turns) ? s.turns : []).map(readTurn).filter((t): t is Turn => t !== null);
  const images = readImages(s.pendingImages);
  return {
    ...base,
    turns: turns.slice(-MAX_TURNS),
    models: (Array.isArray(s.models) ? s.models : []).filter((m): m is ModelChoice => isRecord(m) && typeof m.id === 'string'),
    model: text(s.model),
    policies: (Array.isArray(s.policies) ? s.policies : []).filter(isRecord).filter((p) => typeof p.name === 'string')
      .map((p) => ({ name: p.name as string, summary: text(p.summary) })),
    activePolicy: text(s.activePolicy),
    policyScope: s.policyScope === 'workspace' ? 'workspace' : 'global',
    connected: s.connected === true,
    draft: text(s.draft),
    ...(isPromptContext(s.pendingContext) ? { pendingContext: s.pendingContext } : {}),
    ...(images ? { pendingImages: images } : {}),
  };
}

const STATUSES: readonly Turn['status'][] = ['placing', 'streaming', 'done', 'cancelled', 'error', 'interrupted'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function readImages(v: unknown): ImageAttachment[] | undefined {
  const images = Array.isArray(v) ? v.filter(isImageAttachment) : [];
  return images.length > 0 ? images : undefined;
}

/** A saved turn, its parts of an unknown shape left out; null without an id. */
function readTurn(raw: unknown): Turn | null {
  if (!isRecord(raw) || typeof raw.id !== 'string') return null;
  const status = STATUSES.find((k) => k === raw.status);
  const images = readImages(raw.images);
  const placement = readPlacement(raw.placement);
  const error = readError(raw.error);
  const receipt = readReceipt(raw.receipt);
  return {
    id: raw.id,
    prompt: text(raw.prompt),
    ...(isPromptContext(raw.context) ? { context: raw.context } : {}),
    ...(images ? { images } : {}),
    model: text(raw.model),
    policy: text(raw.policy),
    // A state this panel does not know is no answer to go on with as history.
    status: status ?? 'interrupted',
    sentAt: finite(raw.sentAt) ? raw.sentAt : 0,
    ...(typeof raw.requestId === 'string' ? { requestId: raw.requestId } : {}),
    ...(placement ? { placement } : {}),
    text: text(raw.text),
    ...(finite(raw.firstTokenAt) ? { firstTokenAt: raw.firstTokenAt } : {}),
    ...(finite(raw.lastDeltaAt) ? { lastDeltaAt: raw.lastDeltaAt } : {}),
    attempts: (Array.isArray(raw.attempts) ? raw.attempts : []).filter((a): a is Turn['attempts'][number] =>
      isRecord(a) && isRecord(a.attempt) && (a.next === null || a.next === undefined || isSite(a.next))),
    ...(receipt ? { receipt } : {}),
    ...(error ? { error } : {}),
    ...(raw.showPlacement === true ? { showPlacement: true } : {}),
    ...(typeof raw.rerunOf === 'string' ? { rerunOf: raw.rerunOf } : {}),
  };
}

function isSite(v: unknown): v is SiteRef {
  return isRecord(v) && typeof v.id === 'string' && typeof v.provider === 'string' && typeof v.region === 'string' && typeof v.hardware === 'string';
}

function isCost(v: unknown): boolean {
  return isRecord(v) && finite(v.totalNanoUsd);
}

function isCandidate(v: unknown): v is Candidate {
  if (!isRecord(v) || !isSite(v.site) || !isCost(v.cost)) return false;
  const r = v.rejected;
  return r === undefined || (isRecord(r) && typeof r.reason === 'string' && (r.detail === undefined || typeof r.detail === 'string'));
}

function readPlacement(v: unknown): Placement | undefined {
  if (!isRecord(v) || !Array.isArray(v.candidates) || !v.candidates.every(isCandidate)) return undefined;
  if (v.chosen !== null && typeof v.chosen !== 'string') return undefined;
  return { ...(v as unknown as Placement), why: text(v.why) };
}

const COST_PARTS = ['inputNanoUsd', 'cachedInputNanoUsd', 'cacheWriteNanoUsd', 'outputNanoUsd', 'requestFeeNanoUsd', 'dataTransferNanoUsd'] as const;

/** A receipt as drawn; kinds of tokens and cost a receipt of its time did not count read as none. */
function readReceipt(v: unknown): Receipt | undefined {
  if (!isRecord(v) || !isSite(v.site) || !isCost(v.cost) || !Array.isArray(v.attempts) || !v.attempts.every(isRecord)) return undefined;
  const t = v.tokens;
  if (!isRecord(t) || !finite(t.input) || !finite(t.output)) return undefined;
  const cost = v.cost as Record<string, unknown>;
  return {
    ...(v as unknown as Receipt),
    tokens: { ...(t as unknown as Receipt['tokens']), cachedInput: finite(t.cachedInput) ? t.cachedInput : 0, cacheWrite: finite(t.cacheWrite) ? t.cacheWrite : 0 },
    cost: { ...(cost as unknown as Receipt['cost']), ...Object.fromEntries(COST_PARTS.map((k) => [k, finite(cost[k]) ? cost[k] : 0])) },
  };
}

function readError(v: unknown): PanelError | undefined {
  if (!isRecord(v) || typeof v.title !== 'string' || !Array.isArray(v.detail) || !v.detail.every((d) => typeof d === 'string')) return undefined;
  const actions = (Array.isArray(v.actions) ? v.actions : []).filter((a): a is PanelAction => isRecord(a) && typeof a.label === 'string' && typeof a.command === 'string');
  const placement = readPlacement(v.placement);
  const { placement: _dropped, ...rest } = v;
  return { ...(rest as unknown as PanelError), kind: typeof v.kind === 'string' ? v.kind as PanelError['kind'] : 'other', actions, ...(placement ? { placement } : {}) };
}

/** The host's state read back after a window reload: answers that were streaming then died with it. */
export function reviveState(saved: Partial<PanelState> | undefined | null): PanelState {
  const state = readSavedState(saved);
  return { ...state, turns: state.turns.map((t) => (isFinal(t) ? t : { ...t, status: 'interrupted' as const })) };
}

/** The model list from `switchyard/sites`: each canonical model, how many sites offer it and can serve now, and whether it sees images. */
export function modelChoices(list: SiteInfo[]): ModelChoice[] {
  const byModel = new Map<string, ModelChoice>();
  for (const s of list) {
    for (const m of s.models) {
      const c = byModel.get(m.canonical) ?? { id: m.canonical, sites: 0, available: 0, images: 'no' };
      c.sites++;
      if (s.unavailable === null) c.available++;
      // A disabled site would not serve it either way; one without a key would, once a key is set.
      if (m.images && s.unavailable === null) c.images = 'yes';
      else if (m.images && s.unavailable === 'no key' && c.images === 'no') c.images = 'with a key';
      byModel.set(m.canonical, c);
    }
  }
  return [...byModel.values()].sort((a, b) => Number(b.available > 0) - Number(a.available > 0) || a.id.localeCompare(b.id));
}

/** What goes to the daemon for the next prompt: earlier complete exchanges, then this prompt with its context and images. */
export function buildMessages(state: PanelState, prompt: string, context?: PromptContext, images?: ImageAttachment[]): ChatMessage[] {
  // Earlier images go again only to a model that can see them: after a switch to a text-only model, a
  // follow-up question in words should not be refused for a screenshot from three turns ago.
  const resend = state.models.find((m) => m.id === state.model)?.images === 'yes';
  const history: ChatMessage[] = [];
  // Of a prompt asked again at other sites, the conversation goes on from its latest answer.
  const latest = new Map<string, string>();
  for (const t of state.turns) if (t.status === 'done' && t.text) latest.set(t.rerunOf ?? t.id, t.id);
  for (const t of state.turns) {
    if (t.status !== 'done' || !t.text || latest.get(t.rerunOf ?? t.id) !== t.id) continue;
    history.push(userMessage(t.prompt, t.context, t.images, resend ? undefined : state.model));
    history.push({ role: 'assistant', content: t.text + cutNote(t) });
  }
  return [...history.slice(-20), userMessage(prompt, context, images)];
}

/** An answer that ended before the model finished it is said to, so the model does not take it for whole. */
function cutNote(t: Turn): string {
  if (t.receipt?.outcome === 'cut') return '\n\n[This answer was cut off here: the stream from the site broke off before it ended.]';
  if (t.receipt?.outcome === 'length') return '\n\n[This answer was cut off here: it reached the limit on answer length.]';
  return '';
}

/** The user's message; with `omitFor`, its images are left out and the text says so (that model sees none). */
function userMessage(prompt: string, context?: PromptContext, images?: ImageAttachment[], omitFor?: string): ChatMessage {
  const content = userContent(prompt, context);
  if (!images?.length) return { role: 'user', content };
  if (omitFor !== undefined) return { role: 'user', content: `${content}\n\n[${images.length === 1 ? 'an image was' : `${images.length} images were`} shown here; not sent again, as ${omitFor} sees no images]` };
  return { role: 'user', content, images: images.map((i) => ({ url: i.url })) };
}

export function userContent(prompt: string, context?: PromptContext): string {
  if (!context) return prompt;
  const where = context.lines ? ` (lines ${context.lines[0]}–${context.lines[1]})` : '';
  const fence = context.text.includes('```') ? '````' : '```';
  return `${prompt}\n\nFrom ${context.fileName}${where}:\n${fence}${context.language ?? ''}\n${context.text}\n${fence}`;
}

/** The message the panel posts for a send, or why it cannot send now. */
export function sendIntent(state: PanelState, prompt: string): { message: Extract<WebviewMessage, { type: 'send' }> } | { refused: string } {
  const text = prompt.trim();
  const images = state.pendingImages;
  if (!text && !images) return { refused: 'Type a prompt first.' };
  if (inFlight(state)) return { refused: 'Wait for the current answer, or cancel it.' };
  if (!state.model) return { refused: 'No model to send to yet.' };
  return {
    message: {
      type: 'send', prompt: text, model: state.model, policy: state.activePolicy, context: state.pendingContext,
      ...(images ? { images } : {}), history: buildMessages(state, text, state.pendingContext, images),
    },
  };
}

/**
 * A one-pixel PNG. A preview sends it in place of each inline image: where a prompt can go depends on
 * its having images and on how they are sent (inline or by URL), not on their pixels, which can be
 * megabytes to send again at every pause in typing.
 */
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

/** Where what `sendIntent` would send now would go: the message asking, or null when nothing would be sent. */
export function previewIntent(state: PanelState, prompt: string): Extract<WebviewMessage, { type: 'askPreview' }> | null {
  const intent = sendIntent(state, prompt);
  if ('refused' in intent) return null;
  const { prompt: text, model, policy, context, history } = intent.message;
  const light = history.map((m) => (m.images ? { ...m, images: m.images.map((i) => (i.url.startsWith('data:') ? { ...i, url: PIXEL } : i)) } : m));
  return { type: 'askPreview', prompt: text, model, policy, context, history: light };
}

/**
 * The preview as the line above the prompt says it, and whether it says the prompt would be refused:
 * then in the words the panel would show the refusal in (its title on the line, the rest to hover).
 */
export function previewLine(preview: Preview): { text: string; refused: boolean; detail?: string } {
  if ('error' in preview) return { text: `Cannot be placed: ${preview.error}`, refused: true };
  const p = preview.placement;
  const chosen = p.candidates.find((c) => c.site.id === p.chosen);
  if (!chosen) {
    const refusal = describeError({ code: ErrorCodes.NoEligibleSite, message: p.why, data: { kind: 'no-eligible-site', placement: p }, model: p.model, policy: p.policy });
    return { text: `Would be refused: ${refusal.title}`, refused: true, detail: refusal.detail.join('\n') };
  }
  return {
    text: `${p.policy} would send it to ${siteLabel(chosen.site, true)}: about ${usd(chosen.cost.totalNanoUsd)}, first token in about ${ms(chosen.queueWaitMs + chosen.ttftMs)}`,
    refused: false,
  };
}

/** Where the turn's prompt was first asked, when nothing but answers to that prompt came after it; else -1. */
function latestQuestion(state: PanelState, turnId: string): number {
  const turn = state.turns.find((t) => t.id === turnId);
  if (!turn) return -1;
  const original = turn.rerunOf ?? turn.id;
  const first = state.turns.findIndex((t) => t.id === original);
  return first >= 0 && state.turns.slice(first).every((t) => (t.rerunOf ?? t.id) === original) ? first : -1;
}

/** Whether "run here" can ask this turn's prompt again: it was placed, and it is the latest prompt. */
export function canRerun(state: PanelState, turnId: string): boolean {
  return latestQuestion(state, turnId) >= 0 && !!state.turns.find((t) => t.id === turnId)?.placement;
}

/**
 * The prompt of the latest exchange asked again, pinned to one of the sites its placement found eligible
 * ("run here" in "why here?"): same words, context and images, the same history before it. Only the
 * latest prompt can be asked again, so the conversation after it never loses its thread.
 */
export function rerunIntent(state: PanelState, turnId: string, site: Candidate): { message: WebviewMessage } | { refused: string } {
  const turn = state.turns.find((t) => t.id === turnId);
  const first = latestQuestion(state, turnId);
  if (!turn?.placement || first < 0) return { refused: 'Only the latest prompt can be asked again at another site.' };
  if (inFlight(state)) return { refused: 'Wait for the current answer, or cancel it.' };
  const original = turn.rerunOf ?? turn.id;
  const before = { ...state, turns: state.turns.slice(0, first) };
  return {
    message: {
      type: 'send', prompt: turn.prompt, model: `${site.site.id}/${site.providerModel}`, policy: turn.policy, context: turn.context,
      ...(turn.images ? { images: turn.images } : {}), history: buildMessages(before, turn.prompt, turn.context, turn.images), rerunOf: original,
    },
  };
}

/**
 * Why images waiting to go may not be seen, and where they would be: null when the chosen model can be
 * sent images now (the daemon decides in the end; this says so before the user sends).
 */
export function imageHint(state: PanelState): string | null {
  if (!state.pendingImages) return null;
  const current = state.models.find((m) => m.id === state.model);
  if (!current || current.images === 'yes') return null;
  const ready = state.models.filter((m) => m.images === 'yes').map((m) => m.id);
  const keyed = state.models.filter((m) => m.images === 'with a key').map((m) => m.id);
  const now = ready.length > 0 ? ` Models that can now: ${ready.join(', ')}.` : '';
  if (current.images === 'with a key') {
    return `${current.id} sees images only at sites that need an API key ("Switchyard: Set API Key"); simulated sites see none.${now}`;
  }
  return `${current.id} sees no images at any site.${now || (keyed.length > 0 ? ` With an API key ("Switchyard: Set API Key") these do: ${keyed.join(', ')}.` : '')}`;
}

/** A streaming answer waits this many times what its last draw took before the next: drawing takes at most a fifth of the time. */
const DRAW_WAIT = 4;

/**
 * How long to wait before drawing a streaming answer again (0: now). A draw renders all of the answer's
 * Markdown so far, so drawing it at every delta adds up to work quadratic in its length, and a long
 * answer would take the webview's whole thread, typing in the prompt box included. Waiting a multiple
 * of the last draw's cost thins the draws out as the answer grows, and keeps their total linear. Any
 * other change (the receipt, a cancel, "why here?") is drawn at once.
 */
export function drawDelay(last: { turn: Turn; at: number; costMs: number }, next: Turn, now: number): number {
  if (last.turn.status !== 'streaming' || !onlyTextGrew(last.turn, next)) return 0;
  return Math.max(0, last.at + DRAW_WAIT * last.costMs - now);
}

function onlyTextGrew(before: Turn, after: Turn): boolean {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)] as (keyof Turn)[]);
  return [...keys].every((k) => k === 'text' || k === 'lastDeltaAt' || before[k] === after[k]);
}

export interface Annotation {
  key: string;
  label: string;
  value: string;
  title?: string;
}

/** The annotations of one answer, as far as they are known. */
export function annotations(turn: Turn): Annotation[] {
  const out: Annotation[] = [];
  const r = turn.receipt;
  const site = r?.site ?? turn.placement?.candidates.find((c) => c.site.id === turn.placement?.chosen)?.site;
  if (site) out.push({ key: 'site', label: 'site', value: siteLabel(site, true), title: site.location });
  const ttft = r?.ttftMs ?? (turn.firstTokenAt !== undefined ? turn.firstTokenAt - turn.sentAt : null);
  if (ttft !== null && ttft !== undefined) out.push({ key: 'ttft', label: 'first token', value: ms(ttft) });
  if (r) {
    out.push({ key: 'total', label: 'total', value: ms(r.totalMs) });
    out.push({ key: 'tps', label: 'speed', value: rate(r.tokensPerSecond) });
    const est = r.tokens.estimated ? ' (estimated)' : '';
    const t = r.tokens;
    const writes = t.cacheWrite ? ` · ${count(t.cacheWrite)} cache write${t.cacheWrite1h ? ` (${count(t.cacheWrite1h)} for 1 h)` : ''}` : '';
    out.push({ key: 'tokens', label: 'tokens', value: `${count(t.input)} in · ${count(t.cachedInput)} cached${writes} · ${count(t.output)} out${est}`,
      title: r.tokens.estimated ? 'The provider reported no usage; counted with a tokenizer.' : 'As reported by the provider.' });
    const c = r.cost;
    out.push({ key: 'cost', label: 'cost', value: usd(c.totalNanoUsd),
      title: `input ${usd(c.inputNanoUsd)} · cached ${usd(c.cachedInputNanoUsd)}${c.cacheWriteNanoUsd ? ` · cache write ${usd(c.cacheWriteNanoUsd)}` : ''} · output ${usd(c.outputNanoUsd)} · request fee ${usd(c.requestFeeNanoUsd)} · data transfer ${usd(c.dataTransferNanoUsd)}` });
    if (r.outcome === 'cut') out.push({ key: 'outcome', label: 'outcome', value: 'cut mid-stream' });
    if (r.outcome === 'length') out.push({ key: 'outcome', label: 'outcome', value: 'stopped at max tokens' });
    else if (r.filtered) out.push({ key: 'outcome', label: 'outcome', value: 'ended by the provider\'s content filter', title: 'A content filter, a guardrail or the model\'s refusal ended this answer; what it produced is billed.' });
  } else if (turn.placement) {
    const chosen = turn.placement.candidates.find((c) => c.site.id === turn.placement?.chosen);
    if (chosen) out.push({ key: 'estimate', label: 'estimated', value: `${usd(chosen.cost.totalNanoUsd)} · ${ms(chosen.totalMs)}` });
  }
  // The user's own cancel is not a site failing; it is shown as the turn's status.
  const attempts = r?.attempts.filter((a) => a.outcome !== 'complete' && a.outcome !== 'length' && a.outcome !== 'cancelled') ?? turn.attempts.map((a) => a.attempt);
  // "failed over" when another site took over; a request whose last site failed too simply failed.
  const tookOver = !r || r.outcome !== 'error' || attempts.length > 1;
  if (attempts.length > 0) out.push({ key: 'attempts', label: attempts.length === 1 && !tookOver ? 'failed' : 'failed over', value: attempts.map((a) => `${a.siteId} ${a.status ?? a.outcome}${a.message ? `: ${a.message}` : ''}`).join(' → ') });
  const continued = turn.attempts.filter((a) => a.continuation && a.next);
  if (continued.length > 0) {
    out.push({ key: 'continued', label: 'continued', value: continued.map((a) => `on ${a.next!.provider} · ${a.next!.region} after a cut at ${a.attempt.siteId}`).join('; '),
      title: 'The answer was cut mid-stream and continued from the partial text on the next site; both attempts are billed.' });
  }
  return out;
}

/** The cost breakdown lines of a receipt, for the expanded cost annotation. */
export function costLines(r: Receipt): [string, string][] {
  const c = r.cost;
  return [
    ['input', usd(c.inputNanoUsd)],
    ['cached input', usd(c.cachedInputNanoUsd)],
    ...(c.cacheWriteNanoUsd ? [['cache write', usd(c.cacheWriteNanoUsd)] as [string, string]] : []),
    ['output', usd(c.outputNanoUsd)],
    ['request fee', usd(c.requestFeeNanoUsd)],
    ['data transfer', usd(c.dataTransferNanoUsd)],
    ['total', usd(c.totalNanoUsd)],
  ];
}

/**
 * A candidate's cells in "why here?" and in the Show Placement report. A simulated twin is named as one:
 * with a key for some providers, real sites and other providers' twins are listed side by side, and
 * "run here" on a twin read as a real site would compare a real answer with a simulated one.
 */
export function candidateCells(c: Candidate, chosen: string | null): { site: string; cost: string; ttft: string; total: string; load: string; verdict: string } {
  return {
    site: siteLabel(c.site, true), cost: usd(c.cost.totalNanoUsd), ttft: ms(c.ttftMs), total: ms(c.totalMs),
    load: c.queueDepth === null ? `${c.inFlight}` : `${c.inFlight} / ${c.queueDepth}`, verdict: verdictOf(c, chosen),
  };
}

/**
 * The rows of "why here?": the chosen site first, then the eligible ones, then the passed-over, each group
 * by score order as the daemon sent it. A real site whose simulated twin is listed is folded apart when it
 * stands down for want of a key, and left out when both are disabled: on a fleet without keys they would
 * double every row and say the same.
 */
export function placementRows(p: Placement): { rows: Candidate[]; standingDown: Candidate[] } {
  const twins = new Map(p.candidates.map((c) => [c.site.id, c]));
  const twinOf = (c: Candidate) => twins.get(twinId(c.site.id));
  const standsDown = (c: Candidate) => c.rejected?.reason === 'no key' && twinOf(c) !== undefined;
  const bothDisabled = (c: Candidate) => c.rejected?.reason === 'disabled' && twinOf(c)?.rejected?.reason === 'disabled';
  const rank = (c: Candidate) => (c.site.id === p.chosen ? 0 : c.rejected ? 2 : 1);
  const rows = p.candidates.filter((c) => !standsDown(c) && !bothDisabled(c)).sort((a, b) => rank(a) - rank(b));
  return { rows, standingDown: p.candidates.filter(standsDown) };
}
