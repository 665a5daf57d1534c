// The prompt panel webview: renders PanelState, posts WebviewMessages. All state changes go through
// the pure reducer in panelState.ts; this file only draws and wires the DOM.

import type { Candidate, Placement } from '../daemon/protocol';
import { describeImage, fitWithin, MAX_ATTACHMENTS, sendable, type ImageAttachment } from './images';
import { renderMarkdown } from './markdown';
import { checkHostMessage } from './messageChecks';
import type { HostMessage, PanelError, PanelState, Turn, WebviewMessage } from './messages';
import { annotations, candidateCells, canRerun, costLines, drawDelay, imageHint, inFlight, placementRows, previewIntent, previewLine, readSavedState, reduce, rerunIntent, restoreWith, sendIntent, type PanelEvent } from './panelState';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let state: PanelState = readSavedState(vscode.getState() as Partial<PanelState> | undefined);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = $<HTMLElement>('log');
const prompt = $<HTMLTextAreaElement>('prompt');
const modelSelect = $<HTMLSelectElement>('model');
const policySelect = $<HTMLSelectElement>('policy');
const sendButton = $<HTMLButtonElement>('send');
const cancelButton = $<HTMLButtonElement>('cancel');
const notice = $<HTMLElement>('notice');
const contextChip = $<HTMLElement>('context');
const connection = $<HTMLElement>('connection');
const attachments = $<HTMLElement>('attachments');
const imageHintLine = $<HTMLElement>('image-hint');
const previewNote = $<HTMLElement>('preview');
const imageFile = $<HTMLInputElement>('image-file');
const setKeyButton = document.createElement('button');
setKeyButton.className = 'link';
setKeyButton.dataset.action = 'set-key';
setKeyButton.textContent = 'Set API Key…';
setKeyButton.addEventListener('click', () => post({ type: 'command', command: 'switchyard.setApiKey' }));

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function icon(name: string): HTMLElement {
  return el('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

function post(message: WebviewMessage): void {
  vscode.postMessage(message);
}

// The state VS Code keeps for a reload, written at most every 300 ms: a conversation with screenshots is
// megabytes, and an answer streams dozens of deltas a second.
let persistTimer: ReturnType<typeof setTimeout> | undefined;
function persist(): void {
  persistTimer ??= setTimeout(() => {
    persistTimer = undefined;
    vscode.setState(state);
  }, 300);
}

/** UI events sent to the host before its restore arrived (null once it has): see restoreWith. */
let early: PanelEvent[] | null = [];

/** Applies an event locally and, for UI events, tells the host so its mirror stays the same. */
function dispatch(event: PanelEvent, toHost = false): void {
  let next: PanelState;
  if (event.type === 'restore' && early) {
    next = restoreWith(state, event, early);
    early = null;
  } else {
    next = reduce(state, event);
  }
  if (toHost) {
    post(event as WebviewMessage);
    early?.push(event);
  }
  if (next === state) return;
  const previous = state;
  state = next;
  persist();
  scheduleRender(previous);
}

// ---------------------------------------------------------------------------------------------
// Rendering: per turn, only when the turn object changed (the reducer never mutates), and a streaming
// answer no more often than drawDelay allows.

/** A turn as last drawn: when, and what drawing it took (ms). */
const rendered = new Map<string, { turn: Turn; node: HTMLElement; rerun: boolean; at: number; costMs: number }>();
let pending: PanelState | undefined;
let frame = 0;

function scheduleRender(previous: PanelState): void {
  pending ??= previous;
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const prev = pending;
    pending = undefined;
    render(prev);
  });
}

function render(previous?: PanelState): void {
  renderControls(previous);
  const wanted = new Set(state.turns.map((t) => t.id));
  for (const [id, entry] of rendered) {
    if (!wanted.has(id)) {
      entry.node.remove();
      rendered.delete(id);
    }
  }
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  let before: HTMLElement | null = null;
  for (let i = state.turns.length - 1; i >= 0; i--) {
    const turn = state.turns[i];
    // "run here" is offered on the latest prompt only: a new prompt takes it off the one before.
    const node = turnNode(turn, canRerun(state, turn.id));
    if (node.nextSibling !== before || node.parentNode !== log) log.insertBefore(node, before);
    before = node;
  }
  $<HTMLElement>('empty').hidden = state.turns.length > 0;
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

/** The turn's node: drawn again if the turn changed, unless it is a streaming answer whose next draw is not due. */
function turnNode(turn: Turn, rerun: boolean): HTMLElement {
  const entry = rendered.get(turn.id);
  if (entry && entry.turn === turn && entry.rerun === rerun) return entry.node;
  const wait = entry && entry.rerun === rerun ? drawDelay(entry, turn, performance.now()) : 0;
  if (entry && wait > 0) {
    redrawIn(wait);
    return entry.node;
  }
  const at = performance.now();
  const node = renderTurn(turn, rerun);
  entry?.node.replaceWith(node);
  rendered.set(turn.id, { turn, node, rerun, at, costMs: performance.now() - at });
  return node;
}

let redrawTimer: ReturnType<typeof setTimeout> | undefined;

/** A draw put off is made when due, whether or not another delta comes by then. */
function redrawIn(delay: number): void {
  redrawTimer ??= setTimeout(() => {
    redrawTimer = undefined;
    scheduleRender(state);
  }, delay);
}

function renderControls(previous?: PanelState): void {
  if (!previous || previous.models !== state.models || previous.model !== state.model) {
    modelSelect.replaceChildren(...state.models.map((m) => {
      const label = m.available > 0 ? `${m.id}  (${m.available} site${m.available === 1 ? '' : 's'})` : `${m.id}  (no site available)`;
      const option = el('option', { value: m.id }, label);
      option.selected = m.id === state.model;
      return option;
    }));
    if (state.models.length === 0) modelSelect.append(el('option', { value: '' }, 'loading models…'));
  }
  if (!previous || previous.policies !== state.policies || previous.activePolicy !== state.activePolicy) {
    policySelect.replaceChildren(...state.policies.map((p) => {
      const option = el('option', { value: p.name, title: p.summary }, p.name);
      option.selected = p.name === state.activePolicy;
      return option;
    }));
    const active = state.policies.find((p) => p.name === state.activePolicy);
    policySelect.title = active ? `${active.name}: ${active.summary} (${state.policyScope === 'workspace' ? 'this workspace' : 'all workspaces'})` : '';
    $<HTMLElement>('policy-summary').textContent = active ? active.summary : '';
  }
  connection.hidden = state.connected;
  const busy = inFlight(state);
  sendButton.disabled = !!busy || !state.connected;
  cancelButton.hidden = !busy;
  if (document.activeElement !== prompt && prompt.value !== state.draft) prompt.value = state.draft;
  const ctx = state.pendingContext;
  contextChip.hidden = !ctx;
  if (ctx) {
    $<HTMLElement>('context-name').textContent = `${ctx.fileName}${ctx.lines ? `:${ctx.lines[0]}–${ctx.lines[1]}` : ''}`;
    contextChip.title = ctx.text.slice(0, 2000);
  }
  if (!previous || previous.pendingImages !== state.pendingImages) {
    const images = state.pendingImages ?? [];
    attachments.hidden = images.length === 0;
    attachments.replaceChildren(...images.map((image, index) => {
      const remove = el('button', { class: 'icon', 'aria-label': `Remove ${image.name}`, title: 'Remove this image' }, icon('close'));
      remove.addEventListener('click', () => {
        dispatch({ type: 'detach', index }, true);
        schedulePreview();
      });
      return el('span', { class: 'attachment', 'data-role': 'attachment', title: describeImage(image) }, el('img', { src: image.url, alt: image.name }), `${image.width} × ${image.height}`, remove);
    }));
  }
  const line = state.preview && !busy ? previewLine(state.preview) : null;
  previewNote.hidden = !line;
  previewNote.textContent = line?.text ?? '';
  previewNote.title = line?.detail ?? '';
  previewNote.classList.toggle('refused', line?.refused === true);
  const hint = imageHint(state);
  imageHintLine.hidden = !hint;
  imageHintLine.replaceChildren(hint ?? '', ...(hint && state.models.some((m) => m.images === 'with a key') ? [' ', setKeyButton] : []));
}

const STATUS_TEXT: Record<Turn['status'], string> = {
  placing: 'Placing…',
  streaming: 'Streaming…',
  done: '',
  cancelled: 'Cancelled',
  error: '',
  interrupted: 'Interrupted: the window reloaded while this answer was streaming.',
};

function renderTurn(turn: Turn, rerun: boolean): HTMLElement {
  const article = el('article', { class: `turn status-${turn.status}`, 'data-turn': turn.id, 'data-status': turn.status, 'aria-label': `Prompt: ${turn.prompt.slice(0, 80)}`,
    // Screen readers hear the answer once it is complete, not every streamed fragment.
    'aria-busy': String(turn.status === 'placing' || turn.status === 'streaming') });
  const question = el('div', { class: 'prompt' }, icon('account'), el('div', { class: 'prompt-text' }, turn.prompt));
  if (turn.context) {
    question.append(el('div', { class: 'chip', title: turn.context.text.slice(0, 2000) }, icon('file-code'),
      `${turn.context.fileName}${turn.context.lines ? `:${turn.context.lines[0]}–${turn.context.lines[1]}` : ''}`));
  }
  article.append(question);
  if (turn.images) {
    article.append(el('div', { class: 'turn-images', 'data-role': 'images' },
      ...turn.images.map((image) => el('img', { src: image.url, alt: image.name, title: describeImage(image) }))));
  }
  const meta = el('div', { class: 'turn-meta' }, turn.rerunOf ? `asked again, pinned to ${turn.model} · ${turn.policy}` : `${turn.model} · ${turn.policy}`);
  article.append(meta);
  if (turn.text) {
    const answer = el('div', { class: 'answer markdown', 'data-role': 'answer' });
    answer.innerHTML = renderMarkdown(turn.text);
    addCodeActions(answer);
    article.append(answer);
  }
  const status = STATUS_TEXT[turn.status];
  if (status) article.append(el('div', { class: 'status-line', role: 'status' }, turn.status === 'placing' || turn.status === 'streaming' ? icon('loading codicon-modifier-spin') : null, status));
  if (turn.error) article.append(renderError(turn.error));
  const notes = annotations(turn);
  // A refusal carries its placement too: "why here?" then shows why no site could take it.
  const placement = turn.placement ?? turn.error?.placement;
  if (notes.length > 0 || placement) {
    const list = el('ul', { class: 'annotations', 'aria-label': 'Answer details' });
    for (const a of notes) {
      const item = el('li', { class: 'annotation', 'data-key': a.key }, el('span', { class: 'label' }, a.label), ' ', el('span', { class: 'value' }, a.value));
      if (a.title) item.title = a.title;
      list.append(item);
    }
    if (placement) {
      const why = el('button', { class: 'link why', 'data-action': 'why', 'aria-expanded': String(!!turn.showPlacement) }, icon('question'), turn.placement ? 'why here?' : 'why not?');
      why.addEventListener('click', () => dispatch({ type: 'togglePlacement', turnId: turn.id }, true));
      list.append(el('li', {}, why));
    }
    article.append(list);
    if (turn.receipt) {
      const cost = el('div', { class: 'cost-breakdown', 'data-role': 'cost' });
      for (const [k, v] of costLines(turn.receipt)) cost.append(el('span', { class: k === 'total' ? 'total' : '' }, `${k} ${v}`));
      article.append(cost);
    }
  }
  if (placement && turn.showPlacement) article.append(renderPlacement(placement, rerun ? (c) => runHere(turn.id, c) : undefined));
  return article;
}

/** Copy and Insert on every code block of an answer (Insert goes to the editor the user was last in). */
function addCodeActions(answer: HTMLElement): void {
  for (const pre of Array.from(answer.querySelectorAll('pre'))) {
    const code = pre.querySelector('code');
    if (!code) continue;
    const language = /language-(\S+)/.exec(code.className)?.[1];
    const text = () => code.textContent ?? '';
    const copy = el('button', { class: 'icon', 'data-action': 'copy-code', title: 'Copy', 'aria-label': 'Copy the code' }, icon('copy'));
    copy.addEventListener('click', () => post({ type: 'copyCode', text: text() }));
    const insert = el('button', { class: 'icon', 'data-action': 'insert-code', title: 'Insert at the cursor in the editor', 'aria-label': 'Insert the code at the cursor' }, icon('insert'));
    insert.addEventListener('click', () => post({ type: 'insertCode', text: text(), ...(language && language !== 'text' ? { language } : {}) }));
    pre.before(el('div', { class: 'code-actions' }, copy, insert));
  }
}

function renderError(error: PanelError): HTMLElement {
  const box = el('div', { class: `error error-${error.kind}`, role: 'alert', 'data-error': error.kind },
    el('div', { class: 'error-title' }, icon(error.kind === 'budget' ? 'credit-card' : error.kind === 'unreachable' ? 'debug-disconnect' : 'error'), error.title));
  for (const line of error.detail) box.append(el('p', {}, line));
  if (error.actions.length) {
    const actions = el('div', { class: 'actions' });
    for (const action of error.actions) {
      const button = el('button', { class: 'secondary' }, action.label);
      button.addEventListener('click', () => post({ type: 'command', command: action.command, args: action.args }));
      actions.append(button);
    }
    box.append(actions);
  }
  return box;
}

/** Asks the turn's prompt again at a site its placement found eligible. */
function runHere(turnId: string, c: Candidate): void {
  const intent = rerunIntent(state, turnId, c);
  if ('refused' in intent) {
    notice.textContent = intent.refused;
    return;
  }
  notice.textContent = '';
  post(intent.message);
}

function candidateRow(c: Candidate, chosen: string | null, run?: (c: Candidate) => void): HTMLElement {
  const won = c.site.id === chosen;
  const cells = candidateCells(c, chosen);
  const verdict = el('td', {}, cells.verdict);
  if (run && !won && !c.rejected) {
    const button = el('button', { class: 'link run-here', 'data-action': 'run-here', title: `Ask this prompt again at ${cells.site}, to compare`, 'aria-label': `Run here: ask again at ${cells.site}` }, icon('debug-rerun'), 'run here');
    button.addEventListener('click', () => run(c));
    verdict.append(' ', button);
  }
  return el('tr', { class: won ? 'chosen' : c.rejected ? 'rejected' : 'eligible', 'data-site': c.site.id },
    el('td', { title: c.site.location }, won ? icon('check') : null, cells.site),
    el('td', { class: 'num' }, cells.cost),
    el('td', { class: 'num' }, cells.ttft),
    el('td', { class: 'num' }, cells.total),
    el('td', { class: 'num' }, cells.load),
    verdict);
}

function candidateTable(candidates: Candidate[], chosen: string | null, run?: (c: Candidate) => void): HTMLElement {
  return el('table', {},
    el('thead', {}, el('tr', {}, ...['site', 'est. cost', 'first token', 'total', 'in flight / queue', 'verdict'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...candidates.map((c) => candidateRow(c, chosen, run))));
}

/** "why here?": the reason and every candidate; `run` offers each eligible site not chosen to ask again there. */
function renderPlacement(p: Placement, run?: (c: Candidate) => void): HTMLElement {
  const section = el('section', { class: 'placement', 'data-role': 'placement', 'aria-label': 'Why here: the placement' },
    // The why names the policy (and, placed by a fallback, the one asked for first); the turn's header names the model.
    el('p', { class: 'why-text' }, p.why || (p.chosen ? '' : 'no candidate was eligible.')));
  const { rows, standingDown } = placementRows(p);
  section.append(candidateTable(rows, p.chosen, run));
  if (standingDown.length > 0) {
    const providers = [...new Set(standingDown.map((c) => c.site.provider))].join(', ');
    section.append(el('details', { class: 'standing-down', 'data-role': 'standing-down' },
      el('summary', {}, `${standingDown.length} real site${standingDown.length === 1 ? '' : 's'} without an API key (${providers}): the simulated twins above stand in`),
      candidateTable(standingDown, p.chosen)));
  }
  return section;
}

// ---------------------------------------------------------------------------------------------
// Wiring

let draftTimer: ReturnType<typeof setTimeout> | undefined;
let previewTimer: ReturnType<typeof setTimeout> | undefined;

/** After a pause, asks where the prompt as it stands would go; with nothing to send, the line goes. */
function schedulePreview(): void {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => {
    const ask = previewIntent(state, prompt.value);
    if (ask) post(ask);
    else if (state.preview) dispatch({ type: 'preview', preview: null });
  }, 400);
}

function send(): void {
  const intent = sendIntent(state, prompt.value);
  if ('refused' in intent) {
    notice.textContent = intent.refused;
    return;
  }
  notice.textContent = '';
  post(intent.message);
  clearTimeout(draftTimer);
  prompt.value = '';
  // Sent with the button, which is disabled now: the focus would fall to the page, away from the next prompt.
  prompt.focus();
}

// ---------------------------------------------------------------------------------------------
// Images: pasted, dropped or picked, read here and scaled to what the models see (images.ts).

function dataUrlOf(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('unreadable'));
    reader.readAsDataURL(blob);
  });
}

/** The image as it is sent: its own bytes when a provider takes them as they are, else redrawn smaller or as PNG. */
async function readImage(file: File): Promise<ImageAttachment> {
  const name = file.name || 'pasted image';
  const bitmap = await createImageBitmap(file);
  try {
    const { width, height } = fitWithin(bitmap.width, bitmap.height);
    if (width === bitmap.width && height === bitmap.height) {
      const url = await dataUrlOf(file);
      if (sendable(url)) return { name, url, width, height };
    }
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, width, height);
    // A photo stays a JPEG (as PNG it would be several times larger); screenshots and the rest become PNG, sharp text kept.
    return { name, url: file.type === 'image/jpeg' ? canvas.toDataURL('image/jpeg', 0.9) : canvas.toDataURL('image/png'), width, height };
  } finally {
    bitmap.close();
  }
}

async function attach(files: readonly File[]): Promise<void> {
  const images = files.filter((f) => f.type.startsWith('image/'));
  const others = files.length - images.length;
  const room = MAX_ATTACHMENTS - (state.pendingImages?.length ?? 0);
  const problems: string[] = [];
  if (others > 0) problems.push(`${others} file${others === 1 ? ' is' : 's are'} not an image`);
  if (images.length > room) problems.push(`at most ${MAX_ATTACHMENTS} images go with one prompt`);
  const read: ImageAttachment[] = [];
  for (const file of images.slice(0, Math.max(0, room))) {
    try {
      read.push(await readImage(file));
    } catch {
      problems.push(`${file.name || 'the pasted image'} could not be read as an image`);
    }
  }
  notice.textContent = problems.length ? `Not attached: ${problems.join('; ')}.` : '';
  if (read.length > 0) {
    dispatch({ type: 'attach', images: read }, true);
    schedulePreview();
  }
}

const footer = document.querySelector('footer')!;
prompt.addEventListener('paste', (event) => {
  const files = Array.from(event.clipboardData?.files ?? []);
  if (!files.some((f) => f.type.startsWith('image/'))) return;
  event.preventDefault();
  void attach(files);
});
footer.addEventListener('dragover', (event) => {
  if (!event.dataTransfer?.types.includes('Files')) return;
  event.preventDefault();
  footer.classList.add('dragging');
});
footer.addEventListener('dragleave', () => footer.classList.remove('dragging'));
footer.addEventListener('drop', (event) => {
  footer.classList.remove('dragging');
  const files = Array.from(event.dataTransfer?.files ?? []);
  if (files.length === 0) return;
  event.preventDefault();
  void attach(files);
});
$<HTMLButtonElement>('attach').addEventListener('click', () => imageFile.click());
imageFile.addEventListener('change', () => {
  void attach(Array.from(imageFile.files ?? []));
  imageFile.value = '';
});

sendButton.addEventListener('click', send);
cancelButton.addEventListener('click', () => {
  const turn = inFlight(state);
  // Shown cancelled at once, whether or not the daemon has placed the request yet; the host stops it there.
  if (turn) dispatch({ type: 'cancel', turnId: turn.id }, true);
  // What was typed meanwhile can go now: say where.
  schedulePreview();
  // The button hides once the answer stops: the focus goes where the next prompt is typed.
  prompt.focus();
});
prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey || !event.shiftKey) && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
document.addEventListener('keydown', (event) => {
  // Escape in an input method's composition cancels the composition, not the answer.
  if (event.key === 'Escape' && !event.isComposing && inFlight(state)) {
    event.preventDefault();
    cancelButton.click();
  }
});
const saveDraft = () => {
  clearTimeout(draftTimer);
  draftTimer = undefined;
  if (prompt.value !== state.draft) dispatch({ type: 'draft', text: prompt.value }, true);
};
prompt.addEventListener('input', () => {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(saveDraft, 300);
  schedulePreview();
});
// Unfocused, the prompt shows the state's draft on the next render: what was typed must be in it by then.
prompt.addEventListener('blur', saveDraft);
modelSelect.addEventListener('change', () => {
  dispatch({ type: 'setModel', model: modelSelect.value }, true);
  schedulePreview();
});
policySelect.addEventListener('change', () => post({ type: 'setPolicy', name: policySelect.value }));
$<HTMLButtonElement>('policy-more').addEventListener('click', () => post({ type: 'command', command: 'switchyard.switchPolicy' }));
$<HTMLButtonElement>('drop-context').addEventListener('click', () => {
  dispatch({ type: 'dropContext' }, true);
  schedulePreview();
});
$<HTMLButtonElement>('clear').addEventListener('click', () => dispatch({ type: 'clear' }, true));
$<HTMLButtonElement>('reconnect').addEventListener('click', () => post({ type: 'command', command: 'switchyard.restartDaemon' }));

const PREVIEW_AFTER = new Set<HostMessage['type']>(['restore', 'connection', 'models', 'policies', 'context', 'receipt', 'failed', 'cancelled', 'cleared']);
window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const checked = checkHostMessage(event.data);
  if ('problem' in checked) {
    console.warn(`Switchyard panel: ignored a message from the host: ${checked.problem}`);
    return;
  }
  const message = checked.message;
  dispatch(message);
  if (message.type === 'context') prompt.focus();
  // What the prompt would be sent with, or whether it can be sent, changed: the preview is asked again.
  if (PREVIEW_AFTER.has(message.type)) schedulePreview();
});

render();
// The prompt takes the focus when the panel does (opened or clicked into), never on its own: a webview
// re-created in the background, after a reload or a tab switch, must not pull the focus out of an
// editor or close a quick pick the user is in.
window.addEventListener('focus', () => {
  if (document.activeElement === document.body) prompt.focus();
});
if (document.hasFocus()) prompt.focus();
post({ type: 'ready' });
