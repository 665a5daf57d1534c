// The webviews' message handling without an editor: the panel reducer, annotations, error texts,
// what goes to the daemon, restore after reload, and the spend view's data shaping.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, type Candidate, type Placement, type Receipt, type SiteInfo, type SiteRef, type SpendSummary } from '../../daemon/protocol';
import { admit, languageId, neverAnswered, Stops, stopPlan } from '../../extension/panelParts';
import { describeError, droppedError, rejectionText, verdictOf } from '../../media/errors';
import { ms, policyLine, policySummary, usd } from '../../media/format';
import { checkHostMessage } from '../../media/messageChecks';
import type { HostMessage, PanelState, Turn } from '../../media/messages';
import { describeImage, fitWithin, imageBytes, MAX_ATTACHMENTS, MAX_IMAGE_EDGE, sendable, type ImageAttachment } from '../../media/images';
import { annotations, buildMessages, candidateCells, canRerun, costLines, drawDelay, imageHint, inFlight, initialState, modelChoices, placementRows, previewIntent, previewLine, readSavedState, reduce, rerunIntent, restoreWith, reviveState, sendIntent, type PanelEvent } from '../../media/panelState';
import { markdownHtml } from '../../media/markdown';
import { placementMarkdown } from '../../media/placementReport';
import { siteNames, stackDays, tableRows } from '../../media/spendModel';

const site = (id: string, provider: SiteRef['provider'] = 'groq', region = 'europe-north1'): SiteRef => ({ id, provider, region, location: region, hardware: 'LPU', simulated: true });
const zero = { inputNanoUsd: 0, cachedInputNanoUsd: 0, cacheWriteNanoUsd: 0, outputNanoUsd: 0, requestFeeNanoUsd: 0, dataTransferNanoUsd: 0, totalNanoUsd: 0 };

function candidate(id: string, extra: Partial<Candidate> = {}): Candidate {
  return { site: site(id), providerModel: 'm', cost: { ...zero, totalNanoUsd: 1000 }, queueWaitMs: 0, ttftMs: 200, totalMs: 900, inFlight: 0, queueDepth: 0, breaker: 'closed', ...extra };
}

function placement(chosen: string | null, candidates: Candidate[], policy = 'balanced'): Placement {
  return { id: 'p1', policy, model: 'llama-3.3-70b', chosen, why: 'cheapest with a free slot', candidates, decidedAt: '2026-01-01T00:00:00Z' };
}

function receipt(extra: Partial<Receipt> = {}): Receipt {
  return {
    id: 'r1', requestId: 'q1', placementId: 'p1', site: site('groq-hel'), model: 'llama-3.3-70b', providerModel: 'llama-3.3-70b-versatile', policy: 'balanced',
    workspace: null, client: 'vscode', outcome: 'complete', attempts: [{ siteId: 'groq-hel', outcome: 'complete', ttftMs: 180, durationMs: 900 }],
    tokens: { input: 120, cachedInput: 0, cacheWrite: 0, output: 80, reasoning: 0, estimated: false },
    ttftMs: 180, totalMs: 900, tokensPerSecond: 110, bytesReceived: 2000,
    cost: { inputNanoUsd: 70_800, cachedInputNanoUsd: 0, cacheWriteNanoUsd: 0, outputNanoUsd: 63_200, requestFeeNanoUsd: 0, dataTransferNanoUsd: 10, totalNanoUsd: 134_010 },
    createdAt: '2026-01-01T00:00:01Z', ...extra,
  };
}

function turn(id = 't1', extra: Partial<Turn> = {}): Turn {
  return { id, prompt: 'hello', model: 'llama-3.3-70b', policy: 'balanced', status: 'placing', sentAt: 1000, text: '', attempts: [], ...extra };
}

const run = (events: PanelEvent[], from: PanelState = initialState()) => events.reduce(reduce, from);

describe('panel reducer', () => {
  it('streams a turn: placed, deltas, receipt', () => {
    const s = run([
      { type: 'connection', connected: true },
      { type: 'turnStarted', turn: turn() },
      { type: 'placed', turnId: 't1', requestId: 'q1', placement: placement('groq-hel', [candidate('groq-hel')]) },
      { type: 'delta', turnId: 't1', text: 'Hel', at: 1200 },
      { type: 'delta', turnId: 't1', text: 'lo', at: 1300 },
    ]);
    assert.equal(s.turns[0].status, 'streaming');
    assert.equal(s.turns[0].text, 'Hello');
    assert.equal(s.turns[0].firstTokenAt, 1200);
    const done = reduce(s, { type: 'receipt', turnId: 't1', receipt: receipt() });
    assert.equal(done.turns[0].status, 'done');
    assert.equal(done.turns[0].receipt?.id, 'r1');
  });

  it('leaves the state object alone when nothing changes, and never mutates', () => {
    const s = run([{ type: 'turnStarted', turn: turn() }]);
    const frozen = JSON.stringify(s);
    assert.equal(reduce(s, { type: 'delta', turnId: 'nope', text: 'x', at: 1 }), s);
    assert.equal(reduce(s, { type: 'ready' }), s);
    reduce(s, { type: 'delta', turnId: 't1', text: 'x', at: 1 });
    assert.equal(JSON.stringify(s), frozen);
  });

  it('records failover attempts and a budget refusal', () => {
    const s = run([
      { type: 'turnStarted', turn: turn() },
      { type: 'attempt', turnId: 't1', attempt: { requestId: 'q1', attempt: { siteId: 'a', outcome: 'error', status: 429, ttftMs: null, durationMs: 30 }, next: site('b'), continuation: false } },
    ]);
    assert.equal(s.turns[0].attempts.length, 1);
    assert.match(annotations(s.turns[0]).find((a) => a.key === 'attempts')!.value, /a 429/);
    const cut = reduce(s, { type: 'attempt', turnId: 't1', attempt: { requestId: 'q1', attempt: { siteId: 'b', outcome: 'cut', ttftMs: 100, durationMs: 300 }, next: site('c', 'together', 'us'), continuation: true } });
    assert.equal(annotations(cut.turns[0]).find((a) => a.key === 'continued')?.value, 'on together · us after a cut at b');
    const refused = reduce(s, { type: 'failed', turnId: 't1', error: { kind: 'budget', title: 'x', detail: [], actions: [] } });
    assert.equal(refused.turns[0].status, 'error');
    assert.equal(refused.turns[0].error?.kind, 'budget');
  });

  it('says when a content filter ended the answer, and counts the cache writes among the tokens', () => {
    const r = receipt({ filtered: true, tokens: { input: 1200, cachedInput: 800, cacheWrite: 2048, cacheWrite1h: 1024, output: 6, reasoning: 0, estimated: false } });
    const s = run([{ type: 'turnStarted', turn: turn() }, { type: 'delta', turnId: 't1', text: 'I can', at: 5 }, { type: 'receipt', turnId: 't1', receipt: r }]);
    assert.equal(s.turns[0].status, 'done');
    const notes = annotations(s.turns[0]);
    assert.equal(notes.find((a) => a.key === 'outcome')?.value, 'ended by the provider\'s content filter');
    assert.equal(notes.find((a) => a.key === 'tokens')?.value, '1,200 in · 800 cached · 2,048 cache write (1,024 for 1 h) · 6 out');
    const plain = run([{ type: 'turnStarted', turn: turn() }, { type: 'receipt', turnId: 't1', receipt: receipt() }]);
    assert.equal(annotations(plain.turns[0]).find((a) => a.key === 'outcome'), undefined);
    assert.doesNotMatch(annotations(plain.turns[0]).find((a) => a.key === 'tokens')!.value, /cache write/);
  });

  it('the cost\'s hover names every part the total is made of, cache writes included', () => {
    const cost = { inputNanoUsd: 600_000, cachedInputNanoUsd: 40_000, cacheWriteNanoUsd: 7_680_000, outputNanoUsd: 90_000, requestFeeNanoUsd: 0, dataTransferNanoUsd: 0, totalNanoUsd: 8_410_000 };
    const r = receipt({ cost, tokens: { input: 200, cachedInput: 800, cacheWrite: 2048, output: 6, reasoning: 0, estimated: false } });
    const done = run([{ type: 'turnStarted', turn: turn() }, { type: 'receipt', turnId: 't1', receipt: r }]).turns[0];
    const note = annotations(done).find((a) => a.key === 'cost')!;
    assert.equal(note.value, '$0.0084');
    assert.match(note.title!, /cache write \$0\.0077/);
    assert.doesNotMatch(annotations(run([{ type: 'turnStarted', turn: turn() }, { type: 'receipt', turnId: 't1', receipt: receipt() }]).turns[0]).find((a) => a.key === 'cost')!.title!, /cache write/);
  });

  it('cancels only turns still in flight', () => {
    const s = run([{ type: 'turnStarted', turn: turn() }, { type: 'cancelled', turnId: 't1' }]);
    assert.equal(s.turns[0].status, 'cancelled');
    const done = run([{ type: 'turnStarted', turn: turn() }, { type: 'receipt', turnId: 't1', receipt: receipt() }, { type: 'cancelled', turnId: 't1' }]);
    assert.equal(done.turns[0].status, 'done');
  });

  it('a cancelled receipt keeps what was produced and says cancelled', () => {
    const s = run([{ type: 'turnStarted', turn: turn() }, { type: 'delta', turnId: 't1', text: 'par', at: 5 }, { type: 'cancel', turnId: 't1' }, { type: 'receipt', turnId: 't1', receipt: receipt({ outcome: 'cancelled' }) }]);
    assert.equal(s.turns[0].status, 'cancelled');
    assert.equal(s.turns[0].receipt?.id, 'r1');
    assert.equal(s.turns[0].text, 'par');
    const cancelledAt = receipt({ outcome: 'cancelled', attempts: [{ siteId: 'groq-hel', outcome: 'cancelled', ttftMs: null, durationMs: 90 }] });
    const alone = run([{ type: 'turnStarted', turn: turn() }, { type: 'receipt', turnId: 't1', receipt: cancelledAt }]);
    assert.equal(annotations(alone.turns[0]).find((a) => a.key === 'attempts'), undefined, 'a cancel is not a failover');
    const failedAt = receipt({ outcome: 'error', attempts: [{ siteId: 'groq-hel', outcome: 'error', status: 401, ttftMs: null, durationMs: 90 }] });
    const failed = run([{ type: 'turnStarted', turn: turn() }, { type: 'receipt', turnId: 't1', receipt: failedAt }]);
    assert.equal(annotations(failed.turns[0]).find((a) => a.key === 'attempts')?.label, 'failed');
  });

  it('picks the preferred model when offered, else the first available one', () => {
    const models = [{ id: 'gpt-4o', sites: 3, available: 0, images: 'with a key' as const }, { id: 'llama-3.3-70b', sites: 5, available: 5, images: 'no' as const }];
    assert.equal(reduce(initialState(), { type: 'models', models, preferred: 'gpt-4o' }).model, 'gpt-4o');
    assert.equal(reduce(initialState(), { type: 'models', models, preferred: 'nope' }).model, 'llama-3.3-70b');
    // A list refreshed later (a key set, the catalog reloaded) keeps the model just chosen while it is offered.
    const chosen = reduce(reduce(initialState(), { type: 'models', models, preferred: 'llama-3.3-70b' }), { type: 'setModel', model: 'gpt-4o' });
    assert.equal(reduce(chosen, { type: 'models', models, preferred: 'llama-3.3-70b' }).model, 'gpt-4o');
    assert.equal(reduce(chosen, { type: 'models', models: models.slice(1), preferred: 'llama-3.3-70b' }).model, 'llama-3.3-70b');
  });

  it('a model chosen and a draft typed in a reloaded webview before the host\'s restore arrives survive it', () => {
    const models = [{ id: 'fake-coder', sites: 1, available: 1, images: 'no' as const }, { id: 'llama-3.3-70b', sites: 5, available: 5, images: 'no' as const }];
    // The host's state as it was when the webview said it was ready: the user's first moves had not reached it.
    const host = run([{ type: 'models', models, preferred: 'llama-3.3-70b' }, { type: 'turnStarted', turn: turn() }]);
    const early: PanelEvent[] = [{ type: 'setModel', model: 'fake-coder' }, { type: 'draft', text: 'Write add' }];
    const webview = run(early, reviveState(JSON.parse(JSON.stringify(host)))!);
    const restored = restoreWith(webview, { type: 'restore', state: host }, early);
    assert.equal(restored.model, 'fake-coder');
    assert.equal(restored.draft, 'Write add');
    assert.deepEqual(restored.turns.map((t) => t.id), ['t1'], 'the host\'s conversation comes with it');
    assert.equal(reduce(webview, { type: 'restore', state: host }).model, 'llama-3.3-70b', 'the restore alone would have undone the choice');
  });

  it('selection context goes with the next prompt and is cleared by it', () => {
    const context = { fileName: 'src/a.ts', language: 'typescript', text: 'const a = 1;', lines: [3, 3] as [number, number] };
    let s = run([{ type: 'connection', connected: true }, { type: 'models', models: [{ id: 'm', sites: 1, available: 1, images: 'no' as const }] }, { type: 'context', context }]);
    const intent = sendIntent(s, '  explain  ');
    assert.ok('message' in intent && intent.message.type === 'send');
    if ('message' in intent && intent.message.type === 'send') {
      assert.equal(intent.message.prompt, 'explain');
      assert.deepEqual(intent.message.context, context);
      const last = intent.message.history.at(-1)!;
      assert.match(last.content, /explain\n\nFrom src\/a\.ts \(lines 3–3\):\n```typescript\nconst a = 1;\n```/);
    }
    s = reduce(s, { type: 'turnStarted', turn: turn('t1', { context }) });
    assert.equal(s.pendingContext, undefined);
  });

  it('refuses to send an empty prompt or while an answer is in flight', () => {
    const s = run([{ type: 'models', models: [{ id: 'm', sites: 1, available: 1, images: 'no' as const }] }]);
    assert.ok('refused' in sendIntent(s, '   '));
    const busy = reduce(s, { type: 'turnStarted', turn: turn() });
    assert.ok('refused' in sendIntent(busy, 'hi'));
  });

  it('previews what a send would send, with each inline image as one pixel, and says where it would go or why not', () => {
    const shot: ImageAttachment = { name: 'a.png', url: `data:image/png;base64,${'A'.repeat(4000)}`, width: 800, height: 600 };
    const byUrl: ImageAttachment = { name: 'b.png', url: 'https://example.com/b.png', width: 1, height: 1 };
    const s = run([{ type: 'models', models: [{ id: 'gpt-4o', sites: 1, available: 1, images: 'yes' }] }, { type: 'attach', images: [shot, byUrl] }]);
    const sent = sendIntent(s, 'what is this?');
    const ask = previewIntent(s, 'what is this?');
    assert.ok('message' in sent && ask);
    assert.equal(ask.type, 'askPreview');
    assert.deepEqual(ask.history.map((m) => m.content), sent.message.history.map((m) => m.content));
    const [pixel, url] = ask.history.at(-1)!.images!.map((i) => i.url);
    assert.match(pixel, /^data:image\/png;base64,/);
    assert.ok(pixel.length < 200, 'an inline image goes as one pixel');
    assert.equal(url, byUrl.url);
    assert.equal(previewIntent(s, '   ') === null, false, 'images alone are a prompt');
    assert.equal(previewIntent(run([{ type: 'models', models: [{ id: 'm', sites: 1, available: 1, images: 'no' }] }]), ' '), null, 'nothing to send, nothing to preview');
    assert.equal(previewIntent(reduce(s, { type: 'turnStarted', turn: turn() }), 'hi'), null, 'nor while an answer streams');

    const p = placement('groq-hel', [candidate('groq-hel', { cost: { ...zero, totalNanoUsd: 220_000 }, queueWaitMs: 40, ttftMs: 160 })]);
    assert.deepEqual(previewLine({ placement: p }), { text: 'balanced would send it to groq · europe-north1 · LPU (simulated): about $0.00022, first token in about 200 ms', refused: false });
    // Refused, in the words the panel's refusal would use: its title on the line, the rest to hover.
    const over = previewLine({ placement: { ...p, chosen: null, candidates: [candidate('groq-hel', { rejected: { reason: 'budget', detail: 'worst case $0.0005 exceeds the remaining budget $0.00' } })] } });
    assert.equal(over.text, 'Would be refused: Budget exhausted');
    assert.match(over.detail!, /could cost more than the budget has left/);
    const eu = previewLine({ placement: { ...p, policy: 'eu-only', chosen: null, candidates: [candidate('groq-hel', { rejected: { reason: 'residency', detail: 'region us-east-1 is outside [eu]' } })] } });
    assert.equal(eu.text, 'Would be refused: No eligible site for llama-3.3-70b under "eu-only"');
    assert.equal(over.refused && eu.refused, true);
    assert.deepEqual(previewLine({ error: 'unknown model m' }), { text: 'Cannot be placed: unknown model m', refused: true });
    // Shown until the prompt is sent; never restored after a reload.
    const shown = reduce(s, { type: 'preview', preview: { placement: p } });
    assert.deepEqual(shown.preview, { placement: p });
    assert.equal(reduce(shown, { type: 'turnStarted', turn: turn() }).preview, undefined);
    assert.equal(reduce(shown, { type: 'preview', preview: null }).preview, undefined);
    assert.equal(reviveState(shown).preview, undefined);
  });

  it('sends earlier complete exchanges as history', () => {
    const s = run([{ type: 'turnStarted', turn: turn('t1', { prompt: 'q1' }) }, { type: 'delta', turnId: 't1', text: 'a1', at: 1 }, { type: 'receipt', turnId: 't1', receipt: receipt() },
      { type: 'turnStarted', turn: turn('t2', { prompt: 'q2' }) }, { type: 'failed', turnId: 't2', error: { kind: 'other', title: '', detail: [], actions: [] } }]);
    assert.deepEqual(buildMessages(s, 'q3').map((m) => `${m.role}:${m.content}`), ['user:q1', 'assistant:a1', 'user:q3']);
  });

  it('images wait with the prompt, at most four, each removable, and go as the user message\'s images, again in later turns', () => {
    const png = (n: number): ImageAttachment => ({ name: `shot${n}.png`, url: `data:image/png;base64,${'A'.repeat(n)}=`, width: 800, height: 600 });
    let s = run([{ type: 'models', models: [{ id: 'gpt-4o', sites: 1, available: 1, images: 'yes' }] }, { type: 'attach', images: [png(4), png(8)] }]);
    s = reduce(s, { type: 'attach', images: [png(12), png(16), png(20)] });
    assert.deepEqual(s.pendingImages?.map((i) => i.name), ['shot4.png', 'shot8.png', 'shot12.png', 'shot16.png'].slice(0, MAX_ATTACHMENTS));
    s = reduce(s, { type: 'detach', index: 1 });
    assert.deepEqual(s.pendingImages?.map((i) => i.name), ['shot4.png', 'shot12.png', 'shot16.png']);
    // An image alone is a prompt; the images go after the text of the last user message.
    const intent = sendIntent(s, '   ');
    assert.ok('message' in intent && intent.message.type === 'send');
    if (!('message' in intent) || intent.message.type !== 'send') return;
    assert.deepEqual(intent.message.images?.map((i) => i.name), ['shot4.png', 'shot12.png', 'shot16.png']);
    assert.deepEqual(intent.message.history.at(-1), { role: 'user', content: '', images: [png(4), png(12), png(16)].map((i) => ({ url: i.url })) });
    // Started, answered: the images leave the composer and are sent again with the turn in later prompts.
    s = run([{ type: 'turnStarted', turn: turn('t1', { prompt: 'what is this?', images: s.pendingImages }) }, { type: 'delta', turnId: 't1', text: 'a chart', at: 1 }, { type: 'receipt', turnId: 't1', receipt: receipt() }], s);
    assert.equal(s.pendingImages, undefined);
    const later = buildMessages(s, 'and the axis?');
    assert.deepEqual(later.map((m) => [m.role, m.content, m.images?.length ?? 0]), [['user', 'what is this?', 3], ['assistant', 'a chart', 0], ['user', 'and the axis?', 0]]);
    assert.equal(reduce(reduce(initialState(), { type: 'attach', images: [png(4)] }), { type: 'detach', index: 0 }).pendingImages, undefined);
    // Switched to a text-only model: the follow-up is not refused for the old screenshots, and the text says they were there.
    const textOnly = run([{ type: 'models', models: [{ id: 'gpt-4o', sites: 1, available: 1, images: 'yes' }, { id: 'llama', sites: 1, available: 1, images: 'no' }] }, { type: 'setModel', model: 'llama' }], s);
    const asked = buildMessages(textOnly, 'summarise');
    assert.deepEqual(asked[0], { role: 'user', content: 'what is this?\n\n[3 images were shown here; not sent again, as llama sees no images]' });
    assert.equal(asked.at(-1)!.images, undefined);
  });

  it('says before sending when the chosen model has no site that sees images, and where they would be seen', () => {
    const shot: ImageAttachment = { name: 'a.png', url: 'data:image/png;base64,AAAA', width: 1, height: 1 };
    const models = (gpt: 'yes' | 'with a key' | 'no') => ({ type: 'models' as const, preferred: 'llama-3.3-70b', models: [
      { id: 'llama-3.3-70b', sites: 6, available: 6, images: 'no' as const }, { id: 'gpt-4o', sites: 2, available: gpt === 'yes' ? 1 : 0, images: gpt },
    ] });
    assert.equal(imageHint(run([models('with a key')])), null, 'no hint without images');
    const keyed = run([models('with a key'), { type: 'attach', images: [shot] }]);
    assert.equal(imageHint(keyed), 'llama-3.3-70b sees no images at any site. With an API key ("Switchyard: Set API Key") these do: gpt-4o.');
    assert.equal(imageHint(run([models('yes'), { type: 'attach', images: [shot] }])), 'llama-3.3-70b sees no images at any site. Models that can now: gpt-4o.');
    assert.match(imageHint(reduce(keyed, { type: 'setModel', model: 'gpt-4o' }))!, /^gpt-4o sees images only at sites that need an API key/);
    assert.equal(imageHint(run([models('yes'), { type: 'attach', images: [shot] }, { type: 'setModel', model: 'gpt-4o' }])), null);
  });

  it('"run here" asks the latest prompt again at an eligible site, with the history before it; the conversation goes on from the latest answer', () => {
    const p = placement('sim:groq', [candidate('sim:groq'), { ...candidate('sim:together'), providerModel: 'meta-llama/Llama-3.3-70B' }]);
    const answered = (id: string, prompt: string, text: string, extra: Partial<Turn> = {}): PanelEvent[] => [
      { type: 'turnStarted', turn: turn(id, { prompt, ...extra }) }, { type: 'placed', turnId: id, requestId: `q-${id}`, placement: p },
      { type: 'delta', turnId: id, text, at: 1 }, { type: 'receipt', turnId: id, receipt: receipt() },
    ];
    let s = run([...answered('t1', 'first', 'one'), ...answered('t2', 'second', 'two'), { type: 'attach', images: [{ name: 'a.png', url: 'data:image/png;base64,AAAA', width: 1, height: 1 }] }]);
    s = { ...s, draft: 'half-typed' };
    assert.equal(canRerun(s, 't1'), false, 'an earlier prompt: its thread moved on');
    assert.equal(canRerun(s, 't2'), true);
    assert.deepEqual(rerunIntent(s, 't1', p.candidates[1]), { refused: 'Only the latest prompt can be asked again at another site.' });
    const intent = rerunIntent(s, 't2', p.candidates[1]);
    assert.ok('message' in intent && intent.message.type === 'send');
    if (!('message' in intent) || intent.message.type !== 'send') return;
    assert.equal(intent.message.model, 'sim:together/meta-llama/Llama-3.3-70B', 'pinned to the site, with its own model id');
    assert.equal(intent.message.rerunOf, 't2');
    assert.deepEqual(intent.message.history.map((m) => m.content), ['first', 'one', 'second'], 'the history before the prompt, not its own answer');
    // The host starts the turn: what the user is composing stays; the next prompt's history has one answer to "second", the latest.
    s = run(answered('t3', 'second', 'two again', { rerunOf: 't2' }), s);
    assert.equal(s.draft, 'half-typed');
    assert.equal(s.pendingImages?.length, 1);
    assert.equal(canRerun(s, 't2'), true, 'still the latest prompt: another site can be tried');
    const again = rerunIntent(s, 't3', p.candidates[1]);
    assert.ok('message' in again && again.message.type === 'send' && again.message.rerunOf === 't2', 'a rerun of a rerun points at the first asking');
    assert.deepEqual(buildMessages(s, 'third').map((m) => m.content), ['first', 'one', 'second', 'two again', 'third']);
    assert.deepEqual(rerunIntent(run([{ type: 'turnStarted', turn: turn('t4', { prompt: 'x' }) }], s), 't4', p.candidates[1]), { refused: 'Only the latest prompt can be asked again at another site.' }, 'not placed yet');
  });

  it('"why here?" lists the chosen site, then the eligible, then the passed-over, and folds real sites standing down for their twins', () => {
    const noKey = { reason: 'no key' as const, detail: 'no API key for groq; its simulated twin sim:groq serves instead' };
    const p = placement('sim:together', [
      candidate('groq', { rejected: noKey }),
      candidate('sim:groq', { rejected: { reason: 'threshold', detail: 'over max TTFT' } }),
      candidate('sim:fireworks'),
      candidate('sim:together'),
      candidate('openai', { rejected: { reason: 'no key', detail: 'no API key for openai' } }),
      candidate('groq-ams', { rejected: { reason: 'disabled', detail: 'disabled in the catalog' } }),
      candidate('sim:groq-ams', { rejected: { reason: 'disabled', detail: 'disabled in the catalog' } }),
    ]);
    const { rows, standingDown } = placementRows(p);
    assert.deepEqual(rows.map((c) => c.site.id), ['sim:together', 'sim:fireworks', 'sim:groq', 'openai', 'sim:groq-ams'], 'a keyless site without a twin stays a row of its own; a disabled pair shows once');
    assert.deepEqual(standingDown.map((c) => c.site.id), ['groq']);
  });

  it('"why here?" names a simulated twin as one, as the answer\'s site and the Show Placement report do: a real site and a twin never read the same', () => {
    const real = (id: string) => ({ ...site(id), simulated: false });
    const p = placement('groq-hel', [
      candidate('groq-hel', { site: real('groq-hel') }),
      candidate('sim:groq-hel', { site: { ...site('sim:groq-hel') }, rejected: { reason: 'disabled', detail: 'simulated twin stands down: a groq key is set, so groq-hel serves' } }),
      candidate('sim:together', { site: site('sim:together', 'together', 'us-east') }),
    ]);
    const cells = placementRows(p).rows.map((c) => candidateCells(c, p.chosen));
    assert.deepEqual(cells.map((c) => c.site), ['groq · europe-north1 · LPU', 'together · us-east · LPU (simulated)', 'groq · europe-north1 · LPU (simulated)']);
    assert.deepEqual(cells.map((c) => c.verdict), ['chosen', 'eligible, scored lower', 'disabled: simulated twin stands down: a groq key is set, so groq-hel serves']);
    assert.deepEqual([cells[0].cost, cells[0].ttft, cells[0].total, cells[0].load], ['$0.000001', '200 ms', '900 ms', '0 / 0']);
    const done = reduce(run([{ type: 'turnStarted', turn: turn() }, { type: 'placed', turnId: 't1', requestId: 'q1', placement: p }]), { type: 'receipt', turnId: 't1', receipt: receipt({ site: site('sim:together', 'together', 'us-east') }) });
    assert.equal(annotations(done.turns[0]).find((a) => a.key === 'site')?.value, cells[1].site);
  });

  it('"Show Placement" renders a placement as Markdown: the reason, the chosen site in bold, each verdict, keyless real sites apart', () => {
    const p = { ...placement('sim:together', [
      candidate('groq', { rejected: { reason: 'no key', detail: 'no API key for groq; its simulated twin sim:groq serves instead' } }),
      candidate('sim:groq', { rejected: { reason: 'threshold', detail: 'expected 900 ms | over max 800 ms' } }),
      candidate('sim:together'),
    ]), why: 'balanced: sim:together at $0.0001 expected' };
    const md = placementMarkdown(p).split('\n');
    assert.equal(md[0], '# Placement p1');
    assert.match(md[2], /^Policy \*\*balanced\*\* for \*\*llama-3\.3-70b\*\*, decided 2026-01-01T00:00:00Z: placed at `sim:together`\.$/);
    assert.equal(md[4], '> balanced: sim:together at $0.0001 expected');
    const rows = md.filter((l) => l.startsWith('| ') && !l.startsWith('| site') && !l.startsWith('| ---'));
    assert.equal(rows.length, 3);
    assert.match(rows[0], /^\| \*\*groq · europe-north1 · LPU \(simulated\)\*\* \| europe-north1 \| \$0\.000001 \| 200 ms \| 900 ms \| 0 \/ 0 \| chosen \|$/);
    assert.match(rows[1], /over a policy threshold: expected 900 ms \\\| over max 800 ms \|$/, 'a | in a cell is escaped');
    assert.match(md.join('\n'), /standing down for their simulated twins above:\n\n\| site[^]*\| no API key for groq; its simulated twin sim:groq serves instead \|/);
    // Placed by a fallback: both policies are named.
    assert.match(placementMarkdown({ ...p, policy: 'fastest', fallbackOf: 'interactive' }).split('\n')[2], /^Policy \*\*fastest\*\*, the fallback of \*\*interactive\*\*, for \*\*llama-3\.3-70b\*\*/);
  });

  it('restores a saved conversation, marking answers that were streaming as interrupted', () => {
    const s = run([{ type: 'turnStarted', turn: turn('t1') }, { type: 'receipt', turnId: 't1', receipt: receipt() }, { type: 'turnStarted', turn: turn('t2') }, { type: 'delta', turnId: 't2', text: 'x', at: 2 }]);
    const revived = reviveState(JSON.parse(JSON.stringify(s)));
    assert.deepEqual(revived.turns.map((t) => t.status), ['done', 'interrupted']);
    assert.equal(revived.connected, false);
    assert.deepEqual(reviveState(null), initialState());
    assert.deepEqual(reduce(initialState(), { type: 'restore', state: s } as HostMessage).turns.length, 2);
  });

  it('a webview re-created by a tab switch mid-answer goes on with it: still streaming, cancellable, whole in later history', () => {
    const models = [{ id: 'llama-3.3-70b', sites: 1, available: 1, images: 'no' as const }];
    const host = run([{ type: 'models', models }, { type: 'turnStarted', turn: turn('t1', { prompt: 'q1' }) },
      { type: 'placed', turnId: 't1', requestId: 'q1', placement: placement('groq-hel', [candidate('groq-hel')]) }, { type: 'delta', turnId: 't1', text: 'Hel', at: 2 }]);
    // The new webview first shows what the old one saved, as it was (no flash of "interrupted"), then
    // takes the host's live state on 'ready'.
    const saved = readSavedState(JSON.parse(JSON.stringify(host)));
    assert.equal(saved.turns[0].status, 'streaming');
    let webview = restoreWith(saved, { type: 'restore', state: JSON.parse(JSON.stringify(host)) }, []);
    assert.equal(webview.turns[0].status, 'streaming');
    assert.equal(inFlight(webview)?.id, 't1', 'Cancel and Escape find the answer');
    assert.ok('refused' in sendIntent(webview, 'q2'), 'no second prompt while the first still runs');
    webview = run([{ type: 'delta', turnId: 't1', text: 'lo', at: 3 }, { type: 'receipt', turnId: 't1', receipt: receipt() }], webview);
    assert.equal(webview.turns[0].status, 'done');
    assert.deepEqual(buildMessages(webview, 'q2').map((m) => `${m.role}:${m.content}`), ['user:q1', 'assistant:Hello', 'user:q2']);
  });

  it('after a reload, an answer that died with the old extension host is restored as interrupted, not streaming forever', () => {
    const saved = JSON.parse(JSON.stringify(run([{ type: 'turnStarted', turn: turn('t1') }, { type: 'delta', turnId: 't1', text: 'x', at: 2 }])));
    // The host revives the webview's saved state (deserializeWebviewPanel) and restores the webview from it.
    const host = reviveState(saved);
    const webview = restoreWith(readSavedState(saved), { type: 'restore', state: host }, []);
    assert.equal(webview.turns[0].status, 'interrupted');
    assert.equal(inFlight(webview), undefined);
  });

  /** What drawing a restored panel reads of its state, as renderControls and renderTurn read it: throws where they would. */
  function draw(s: PanelState): void {
    for (const m of s.models) assert.equal(typeof m.id, 'string');
    for (const p of s.policies) assert.ok(typeof p.name === 'string' && typeof p.summary === 'string');
    assert.equal(typeof s.draft, 'string');
    if (s.pendingContext) assert.ok(s.pendingContext.fileName.length >= 0 && s.pendingContext.text.slice(0, 1) !== undefined);
    for (const image of s.pendingImages ?? []) describeImage(image);
    imageHint(s);
    for (const t of s.turns) {
      assert.ok(typeof t.prompt === 'string' && typeof t.text === 'string' && typeof t.model === 'string' && typeof t.policy === 'string');
      if (t.context) assert.equal(typeof t.context.text.slice(0, 2000), 'string');
      for (const image of t.images ?? []) describeImage(image);
      for (const line of t.error?.detail ?? []) assert.equal(typeof line, 'string');
      for (const action of t.error?.actions ?? []) assert.equal(typeof action.label, 'string');
      annotations(t);
      if (t.receipt) costLines(t.receipt);
      const p = t.placement ?? t.error?.placement;
      if (p) for (const c of [...placementRows(p).rows, ...placementRows(p).standingDown]) verdictOf(c, p.chosen);
      canRerun(s, t.id);
    }
    buildMessages(s, 'next');
    sendIntent(s, 'next');
  }

  it('a saved state of another version\'s shape, or no state at all, restores without breaking the panel; the words of each turn stay', () => {
    const shapes: unknown[] = [
      'x', 42, [], { turns: 'x' }, { turns: [null, 7, { prompt: 'no id' }] },
      // A version before failover and images: no attempts, models as names, policies without summaries.
      { turns: [{ id: 'a', prompt: 'q', text: 'an answer', status: 'done', model: 'm', policy: 'p', sentAt: 1 }], models: ['m'], policies: [{ name: 'p' }], model: 'm', draft: null },
      // Parts of shapes this version does not draw.
      { models: null, policies: 'cheapest', pendingImages: [{ url: 'data:image/png;base64,AA' }], pendingContext: { fileName: 'a.ts' }, turns: [
        { id: 'b', prompt: 7, status: 'thinking', attempts: [null, { siteId: 'x' }], context: { fileName: 'a.ts', text: null }, images: 'x',
          receipt: { site: site('s'), cost: { totalNanoUsd: 5 }, attempts: [], tokens: { in: 3 } },
          placement: { chosen: 's', candidates: [{ site: 's' }] },
          error: { title: 'failed', detail: 'not a list', actions: [] } },
        { id: 'c', prompt: 'q', text: 'partial', status: 'error', attempts: [], error: { kind: 'other', title: 'x', detail: ['y'], actions: [null, { label: 'Show Logs', command: 'switchyard.showLogs' }], placement: { candidates: 'none' } } },
      ] },
    ];
    for (const saved of shapes) {
      for (const read of [readSavedState, reviveState]) {
        const s = read(saved as Partial<PanelState>);
        assert.doesNotThrow(() => draw(s), JSON.stringify(saved));
        assert.ok('message' in checkHostMessage({ type: 'restore', state: s }), 'the host can restore it into a webview');
      }
    }
    const old = readSavedState(shapes[5] as Partial<PanelState>);
    assert.equal(old.turns[0].text, 'an answer');
    assert.deepEqual(buildMessages({ ...old, models: [] }, 'next').map((m) => m.content), ['q', 'an answer', 'next'], 'a whole answer of an older version is still history');
    const odd = readSavedState(shapes[6] as Partial<PanelState>);
    assert.deepEqual(odd.turns.map((t) => [t.id, t.status]), [['b', 'interrupted'], ['c', 'error']], 'a status this version does not know is no whole answer');
    assert.equal(odd.turns[0].receipt, undefined);
    assert.deepEqual(odd.turns[1].error?.actions, [{ label: 'Show Logs', command: 'switchyard.showLogs' }]);
    // A receipt from before cached tokens and cache writes were counted still tells its cost.
    const early = receipt();
    const { cachedInput: _c, cacheWrite: _w, ...tokens } = early.tokens;
    const { cacheWriteNanoUsd: _cw, ...cost } = early.cost;
    const kept = readSavedState({ turns: [{ ...turn('r', { status: 'done', text: 'a' }), receipt: { ...early, tokens, cost } as unknown as Receipt }] }).turns[0];
    assert.equal(annotations(kept).find((a) => a.key === 'tokens')?.value, '120 in · 0 cached · 80 out');
    assert.deepEqual(costLines(kept.receipt!).map(([k]) => k), ['input', 'cached input', 'output', 'request fee', 'data transfer', 'total']);
  });

  it('a saved state of this version reads back as it was saved', () => {
    const images = [{ name: 'a.png', url: 'data:image/png;base64,AAAA', width: 2, height: 1 }];
    const s = run([
      { type: 'models', models: [{ id: 'llama-3.3-70b', sites: 1, available: 1, images: 'yes' }] },
      { type: 'policies', policies: [{ name: 'balanced', summary: 'cost + time' }], active: 'balanced', scope: 'workspace' },
      { type: 'turnStarted', turn: turn('t1', { context: { fileName: 'a.ts', language: 'typescript', text: 'x', lines: [1, 2] }, images }) },
      { type: 'placed', turnId: 't1', requestId: 'q1', placement: placement('groq-hel', [candidate('groq-hel'), candidate('b', { rejected: { reason: 'budget', detail: 'worst case $1 exceeds' } })]) },
      { type: 'attempt', turnId: 't1', attempt: { requestId: 'q1', attempt: { siteId: 'a', outcome: 'error', ttftMs: null, durationMs: 1 }, next: site('b'), continuation: true } },
      { type: 'delta', turnId: 't1', text: 'Hello', at: 1200 },
      { type: 'receipt', turnId: 't1', receipt: receipt() },
      { type: 'togglePlacement', turnId: 't1' },
      { type: 'turnStarted', turn: turn('t2', { rerunOf: 't1' }) },
      { type: 'failed', turnId: 't2', error: describeError({ code: ErrorCodes.NoEligibleSite, message: 'no', model: 'm', policy: 'p', data: { kind: 'no-eligible-site', placement: placement(null, [candidate('x', { rejected: { reason: 'context', detail: 'too long' } })]) } }) },
      { type: 'attach', images }, { type: 'context', context: { fileName: 'b.ts', text: 'y' } }, { type: 'draft', text: 'typing' },
    ]);
    const saved = JSON.parse(JSON.stringify(s));
    assert.deepEqual(JSON.parse(JSON.stringify(readSavedState(saved))), saved);
  });

  it('keeps the UI events the host mirrors: why here, model, draft, clear', () => {
    let s = run([{ type: 'turnStarted', turn: turn() }, { type: 'togglePlacement', turnId: 't1' }, { type: 'setModel', model: 'x' }, { type: 'draft', text: 'typing' }]);
    assert.equal(s.turns[0].showPlacement, true);
    assert.equal(s.model, 'x');
    assert.equal(s.draft, 'typing');
    s = reduce(s, { type: 'clear' });
    assert.equal(s.turns.length, 0);
  });
});

describe('annotations', () => {
  it('show the site and estimate once placed, then the receipt numbers', () => {
    const placed = run([{ type: 'turnStarted', turn: turn() }, { type: 'placed', turnId: 't1', requestId: 'q1', placement: placement('groq-hel', [candidate('groq-hel')]) }]).turns[0];
    const keys = annotations(placed).map((a) => a.key);
    assert.deepEqual(keys, ['site', 'estimate']);
    const done = reduce(run([{ type: 'turnStarted', turn: turn() }]), { type: 'receipt', turnId: 't1', receipt: receipt({ tokens: { input: 120, cachedInput: 20, cacheWrite: 0, output: 80, reasoning: 0, estimated: true } }) }).turns[0];
    const a = Object.fromEntries(annotations(done).map((x) => [x.key, x]));
    assert.equal(a.site.value, 'groq · europe-north1 · LPU (simulated)');
    assert.equal(a.ttft.value, '180 ms');
    assert.equal(a.total.value, '900 ms');
    assert.equal(a.tps.value, '110 tok/s');
    assert.equal(a.tokens.value, '120 in · 20 cached · 80 out (estimated)');
    assert.equal(a.cost.value, '$0.00013');
    assert.match(a.cost.title!, /input \$0\.000071 · cached \$0\.00 · output \$0\.000063 · request fee \$0\.00 · data transfer \$0\.00000001/);
  });
});

describe('errors shown in the panel', () => {
  it('budget: which cap, how much is left, what to do', () => {
    const e = describeError({ code: ErrorCodes.BudgetExceeded, message: 'budget', model: 'm', policy: 'p',
      data: { kind: 'budget', scope: 'day', capNanoUsd: 5e9, spentNanoUsd: 4.99e9, reservedNanoUsd: 0, remainingNanoUsd: 0.01e9, worstCaseNanoUsd: 0.02e9 } });
    assert.equal(e.kind, 'budget');
    assert.equal(e.title, 'Daily budget exhausted: $0.01 left of $5.00');
    assert.match(e.detail.join(' '), /Spent \$4\.99; this request could cost up to \$0\.02/);
    assert.ok(e.actions.some((a) => a.command === 'switchyard.setBudget'));
  });

  it('a team budget: the team\'s cap in UTC, and the team command to raise it', () => {
    const e = describeError({ code: ErrorCodes.BudgetExceeded, message: 'budget', model: 'm', policy: 'p',
      data: { kind: 'budget', team: true, scope: 'month', capNanoUsd: 100e9, spentNanoUsd: 99.5e9, reservedNanoUsd: 0.4e9, remainingNanoUsd: 0.1e9, worstCaseNanoUsd: 0.2e9 } });
    assert.equal(e.title, 'Team Monthly budget exhausted (UTC): $0.10 left of $100.00');
    assert.match(e.detail.join(' '), /The team spent \$99\.50, \$0\.40 reserved by requests in flight/);
    assert.match(e.detail.join(' '), /"Switchyard: Set Team Budget"/);
    assert.deepEqual(e.actions.map((a) => a.command), ['switchyard.setTeamBudget', 'switchyard.showSpend']);
  });

  it('a team ledger out of reach: nothing sent, and how to fix the link', () => {
    const e = describeError({ code: ErrorCodes.TeamLedgerUnavailable, message: 'the team\'s budgets cannot be checked: the team ledger at db:5432 is unreachable (ECONNREFUSED)', model: 'm', policy: 'p' });
    assert.equal(e.kind, 'budget');
    assert.equal(e.title, 'The team\'s budgets cannot be checked right now');
    assert.match(e.detail.join(' '), /db:5432 is unreachable/);
    assert.match(e.detail.join(' '), /simulated fleet still answers/);
    assert.deepEqual(e.actions.map((a) => a.command), ['switchyard.connectTeamLedger', 'switchyard.showLogs']);
  });

  it('no eligible site: which constraint excluded what', () => {
    const p = placement(null, [candidate('a', { rejected: { reason: 'residency', detail: 'us-east1 not in eu' } }), candidate('b', { rejected: { reason: 'model', detail: '' } })], 'eu-only');
    const e = describeError({ code: ErrorCodes.NoEligibleSite, message: 'none', model: 'gpt-4o', policy: 'eu-only', data: { kind: 'no-eligible-site', placement: p } });
    assert.equal(e.kind, 'no-eligible-site');
    assert.match(e.detail[0], /outside the allowed regions: groq · europe-north1 · LPU \(us-east1 not in eu\)/);
    assert.equal(e.placement, p);
  });

  it('no site can do what the request needs (images on the simulated fleet): a key and another model help, a policy does not', () => {
    const p = placement(null, [
      candidate('sim:groq', { rejected: { reason: 'capability', detail: 'simulated: answers with text only and sees no images; a real provider with a key can' } }),
      candidate('groq', { rejected: { reason: 'no key', detail: 'no API key for groq' } }),
      candidate('groq-ams', { rejected: { reason: 'disabled', detail: 'disabled in the catalog' } }),
      candidate('sim:groq-ams', { rejected: { reason: 'disabled', detail: 'disabled in the catalog' } }),
    ]);
    const e = describeError({ code: ErrorCodes.NoEligibleSite, message: 'none', model: 'llama-3.3-70b', policy: 'balanced', data: { kind: 'no-eligible-site', placement: p } });
    assert.equal(e.title, 'No site for llama-3.3-70b can do what this request needs');
    assert.equal(e.detail.find((d) => d.startsWith('disabled')), 'disabled: groq · europe-north1 · LPU (disabled in the catalog)', 'a site disabled with its twin is named once');
    assert.match(e.detail[0], /^cannot do what the request needs: .*sees no images/);
    assert.match(e.detail.at(-1)!, /set that provider's API key/);
    assert.ok(!e.detail.join(' ').includes('looser constraints'));
    assert.deepEqual(e.actions, [{ label: 'Set API Key', command: 'switchyard.setApiKey' }]);
  });

  it('no key for the only site that serves the model', () => {
    const p = placement(null, [{ ...candidate('anthropic-us'), site: site('anthropic-us', 'anthropic', 'us'), rejected: { reason: 'no key', detail: '' } }, candidate('b', { rejected: { reason: 'model', detail: '' } })]);
    const e = describeError({ code: ErrorCodes.NoEligibleSite, message: 'none', model: 'claude-3.5-sonnet', policy: 'p', data: { kind: 'no-eligible-site', placement: p } });
    assert.equal(e.kind, 'no-key');
    assert.match(e.detail[0], /Only anthropic · us · LPU serves claude-3\.5-sonnet/);
    assert.deepEqual(e.actions[0], { label: 'Set API Key for anthropic', command: 'switchyard.setApiKey', args: ['anthropic'] });
  });

  it('daemon unreachable', () => {
    const e = describeError({ message: 'not connected', model: 'm', policy: 'p', unreachable: true });
    assert.equal(e.kind, 'unreachable');
    assert.deepEqual(e.actions.map((a) => a.command), ['switchyard.restartDaemon', 'switchyard.showLogs']);
  });

  it('the connection dropped mid-answer: what the site produced is billed, not "nothing was billed"', () => {
    const e = droppedError();
    assert.equal(e.kind, 'unreachable');
    assert.match(e.detail.join(' '), /What the site produced before the drop is billed/);
    assert.doesNotMatch(e.detail.join(' '), /not sent|nothing was billed/);
    assert.deepEqual(e.actions.map((a) => a.command), ['switchyard.restartDaemon', 'switchyard.showLogs']);
  });
});

describe('formatting', () => {
  it('money never reads $0.00 for a real cost', () => {
    assert.equal(usd(0), '$0.00');
    assert.equal(usd(420_000_000), '$0.42');
    assert.equal(usd(5e9), '$5.00');
    assert.equal(usd(4_200_000), '$0.0042');
    assert.equal(usd(1000), '$0.000001');
    assert.equal(usd(300_000), '$0.0003');
    assert.equal(usd(95_000), '$0.000095');
    assert.equal(usd(1), '$0.000000001');
  });

  it('a few cents keep two significant digits: costs "why here?" chose between do not read the same', () => {
    assert.equal(usd(15_400_000), '$0.015');
    assert.equal(usd(24_000_000), '$0.024');
    assert.equal(usd(-12_345_678), '-$0.012');
    assert.equal(usd(10_000_000), '$0.01');
    assert.equal(usd(50_000_000), '$0.05');
    assert.equal(usd(99_990_000), '$0.10');
    assert.equal(usd(154_000_000), '$0.15');
  });

  it('times switch from ms to s on the figure as rounded', () => {
    assert.equal(ms(999.4), '999 ms');
    assert.equal(ms(999.6), '1.00 s');
    assert.equal(ms(1234), '1.23 s');
    assert.equal(ms(9_999), '10.0 s');
    assert.equal(ms(null), '–');
  });

  it('a receipt without a first token (TTFT null) says so, and its speed is unknown rather than made up', () => {
    const r = receipt({ ttftMs: null, tokensPerSecond: null, tokens: { input: 10, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0, estimated: false } });
    const a = Object.fromEntries(annotations(reduce(run([{ type: 'turnStarted', turn: turn() }]), { type: 'receipt', turnId: 't1', receipt: r }).turns[0]).map((x) => [x.key, x.value]));
    assert.equal(a.ttft, undefined);
    assert.equal(a.tps, '–');
    assert.equal(a.total, '900 ms');
  });

  it('a policy summary says what it optimises and its constraints', () => {
    assert.equal(policySummary({ name: 'eu', kind: 'balanced', usdPerSecond: 0.0001, constraints: { regions: ['eu'], maxTtftMs: 700 } }), 'cost + $0.0001/s of waiting · regions eu · first token ≤ 700 ms');
    assert.equal(policySummary({ name: 'i', kind: 'cheapest', constraints: { maxTtftMs: 1000, ttftConfidence: 0.95 }, fallback: 'fastest' }), 'lowest expected cost · first token ≤ 1.00 s at 95% · fallback fastest');
    assert.equal(policyLine({ name: 'eu', kind: 'balanced', description: 'Balanced, EU only.', constraints: { regions: ['eu'] } }), 'Balanced, EU only · regions eu');
  });
});

describe('spend view data', () => {
  const summary: SpendSummary = {
    day: '2026-01-02', month: '2026-01', todayNanoUsd: 3e9, monthNanoUsd: 6e9, reservedNanoUsd: 0, receipts: 9, recent: [],
    byProvider: { groq: 4e9, google: 2e9 }, bySite: {}, byModel: {}, byWorkspace: {}, byClient: {},
    days: [
      { day: '2026-01-02', byProvider: { groq: 2e9, google: 1e9 }, bySite: {} },
      { day: '2026-01-01', byProvider: { groq: 2e9, google: 1e9 }, bySite: {} },
    ],
    budgets: [],
  };

  it('stacks per day, largest series first, cumulative', () => {
    const s = stackDays(summary, 'provider');
    assert.deepEqual(s.keys, ['groq', 'google']);
    assert.deepEqual(s.days, ['2026-01-01', '2026-01-02']);
    assert.deepEqual(s.x, [0, 1]);
    assert.deepEqual(s.stacked, [[3, 3], [1, 1]]);
  });

  it('shows every day of the month so far, quiet days as zero', () => {
    const s = stackDays({ ...summary, day: '2026-01-04', days: [{ day: '2026-01-03', byProvider: { groq: 1e9 }, bySite: {} }] }, 'provider');
    assert.deepEqual(s.days, ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04']);
    assert.deepEqual(s.values, [[0, 0, 1, 0]]);
  });

  it('names each site with spend from the catalog, else from a recent receipt, else by its id', () => {
    const ref = (id: string, provider: string, region: string, hardware: string, simulated: boolean) => ({ id, provider, region, location: region, hardware, simulated }) as SiteRef;
    const helsinki = ref('sim:groq/eu-helsinki/lpu', 'groq', 'eu-helsinki', 'groq-lpu', true);
    const gone = ref('together/us/h100', 'together', 'us', 'h100', false);
    const s: SpendSummary = {
      ...summary,
      bySite: { [helsinki.id]: 2e9, [gone.id]: 1e9, 'local/old/cpu': 5e8 },
      recent: [{ site: gone } as SpendSummary['recent'][number]],
    };
    assert.deepEqual(siteNames(s, { [helsinki.id]: helsinki }), {
      'sim:groq/eu-helsinki/lpu': 'groq · eu-helsinki · groq-lpu (simulated)',
      'together/us/h100': 'together · us · h100',
      'local/old/cpu': 'local/old/cpu',
    });
  });

  it('tables sort by spend with shares', () => {
    assert.deepEqual(tableRows({ a: 1, b: 3 }), [{ key: 'b', nanoUsd: 3, share: 0.75 }, { key: 'a', nanoUsd: 1, share: 0.25 }]);
  });
});

describe('errors: placement refused for budget', () => {
  it('names the binding cap and what is left when every serving site is over the budget', () => {
    const p = placement(null, [
      candidate('a', { rejected: { reason: 'budget', detail: 'worst case $0.000946 exceeds the remaining budget $0.00' } }),
      candidate('b', { rejected: { reason: 'no key', detail: 'no API key for groq' } }),
    ]);
    const e = describeError({ code: ErrorCodes.NoEligibleSite, message: 'none', model: 'm', policy: 'fastest', data: { kind: 'no-eligible-site', placement: p },
      budgets: [{ scope: 'day', capNanoUsd: 1000, softRatio: 0.8, spentNanoUsd: 220_000, reservedNanoUsd: 0, state: 'exceeded' }] });
    assert.equal(e.kind, 'budget');
    assert.equal(e.title, 'Daily budget exhausted: $0.00 left of $0.000001');
    assert.match(e.detail[0], /Spent \$0\.00022; this request could cost up to \$0\.00095/);
  });
});

describe('why here: a passed-over candidate\'s words', () => {
  it('say the reason, then the detail, without saying the reason twice', () => {
    assert.equal(rejectionText({ reason: 'no key', detail: 'no API key for groq; its simulated twin sim:groq/eu-helsinki/lpu serves instead' }), 'no API key for groq; its simulated twin sim:groq/eu-helsinki/lpu serves instead');
    assert.equal(rejectionText({ reason: 'disabled', detail: 'disabled in the catalog' }), 'disabled in the catalog');
    assert.equal(rejectionText({ reason: 'disabled', detail: 'simulated twin stands down: a groq key is set' }), 'disabled: simulated twin stands down: a groq key is set');
    assert.equal(rejectionText({ reason: 'capability', detail: 'simulated: answers in plain text, not JSON' }), 'cannot do what the request needs: simulated: answers in plain text, not JSON');
    assert.equal(rejectionText({ reason: 'breaker', detail: '' }), 'circuit breaker open');
  });
});

describe('prompt images', () => {
  it('the model list says where each model sees images: at a site that serves now, only once a key is set, or nowhere', () => {
    const info = (id: string, unavailable: SiteInfo['unavailable'], models: [string, boolean][]): SiteInfo => ({
      site: site(id), endpointKind: 'openai', unavailable, telemetry: { inFlight: 0, queueDepth: null, ttftMs: null, outputTokensPerSecond: null, errorRate: 0, headroom: 1, breaker: 'closed', samples: 0 },
      models: models.map(([canonical, images]) => ({ canonical, providerModel: canonical, contextWindow: 1000, price: { inputPer1M: 1, outputPer1M: 1, readOn: '2026-01-01' }, ttftMs: 1, outputTokensPerSecond: 1, maxOutputTokens: null, images, tools: images })),
    });
    const choices = modelChoices([
      info('openai', 'no key', [['gpt-4o', true]]),
      info('sim:openai', null, [['gpt-4o', false]]),
      info('anthropic', null, [['claude', true]]),
      info('groq', 'disabled', [['llama', true]]),
      info('sim:groq', null, [['llama', false]]),
    ]);
    assert.deepEqual(choices.map((c) => [c.id, c.sites, c.available, c.images]), [['claude', 1, 1, 'yes'], ['gpt-4o', 2, 1, 'with a key'], ['llama', 2, 1, 'no']]);
  });

  it('are sent at no more than 1568 px on the longer edge, proportions kept, never enlarged', () => {
    assert.equal(MAX_IMAGE_EDGE, 1568);
    assert.deepEqual(fitWithin(3136, 1960), { width: 1568, height: 980 });
    assert.deepEqual(fitWithin(1000, 4000), { width: 392, height: 1568 });
    assert.deepEqual(fitWithin(640, 480), { width: 640, height: 480 });
    assert.deepEqual(fitWithin(5000, 1), { width: 1568, height: 1 });
  });

  it('go as they are only in a type every provider takes, and say their size', () => {
    assert.ok(sendable('data:image/png;base64,AAAA'));
    assert.ok(sendable('data:image/webp;base64,AAAA'));
    assert.ok(!sendable('data:image/bmp;base64,AAAA'));
    assert.ok(!sendable('data:image/svg+xml;base64,AAAA'));
    assert.equal(imageBytes('data:image/png;base64,AAAA'), 3);
    assert.equal(imageBytes('data:image/png;base64,AAA='), 2);
    assert.equal(imageBytes('data:image/png;base64,AA=='), 1);
    const url = `data:image/png;base64,${Buffer.alloc(420 * 1024).toString('base64')}`;
    assert.equal(describeImage({ name: 'screen.png', url, width: 1568, height: 980 }), 'screen.png · 1568 × 980 · 420 KB');
  });
});

describe('messages between the panel\'s webview and the host', () => {
  const models = { type: 'models' as const, models: [{ id: 'm', sites: 1, available: 1, images: 'no' as const }] };

  it('the host ignores a message of an unknown type or with missing fields, saying why, and takes a well-formed one', () => {
    const s = run([models]);
    for (const raw of [null, 'send', [], {}, { type: 7 }, { type: 'bogus' }, { type: 'constructor' }, { type: 'toString' }, { type: 'cancel' }, { type: 'setModel', model: 3 },
      { type: 'send', prompt: 'hi' }, { type: 'attach', images: [null] }, { type: 'detach', index: '0' }, { type: 'draft' },
      { type: 'command', command: 'workbench.action.terminal.new' }, { type: 'command', command: 'switchyard.showLogs', args: 'x' }]) {
      const verdict = admit(s, raw);
      assert.ok('ignored' in verdict && verdict.ignored.length > 0, JSON.stringify(raw));
    }
    assert.match((admit(s, { type: 'bogus' }) as { ignored: string }).ignored, /unknown type "bogus"/);
    assert.match((admit(s, { type: 'send', prompt: 'hi', policy: '' }) as { ignored: string }).ignored, /model, history/);
    const intent = sendIntent(s, 'hi');
    assert.ok('message' in intent);
    for (const m of [{ type: 'ready' }, intent.message, { type: 'cancel', turnId: 't1' }, { type: 'command', command: 'switchyard.showLogs' }]) assert.deepEqual(admit(s, m), { message: m });
  });

  it('a prompt whose selection context is not a file name and its text is turned away: the host would keep it and every webview it restores would draw it', () => {
    const s = run([models]);
    const ask = { prompt: 'hi', model: 'm', policy: '', history: [{ role: 'user', content: 'hi' }] };
    for (const context of [{}, { fileName: 'a.ts' }, { fileName: 'a.ts', text: 5 }, { fileName: 'a.ts', text: 'x', lines: ['1', '2'] }, { fileName: 'a.ts', text: 'x', lines: [1] }, { fileName: 'a.ts', text: 'x', language: 3 }]) {
      for (const type of ['send', 'askPreview']) {
        const verdict = admit(s, { type, ...ask, context });
        assert.ok('ignored' in verdict && /context/.test(verdict.ignored), `${type} ${JSON.stringify(context)}`);
      }
    }
    const context = { fileName: 'a.ts', language: 'typescript', text: 'const x = 1;', lines: [3, 4] };
    assert.ok('message' in admit(s, { type: 'send', ...ask, context }));
    assert.ok('message' in admit(s, { type: 'askPreview', ...ask, context: { fileName: 'a.ts', text: '' } }));
  });

  it('only Set API Key takes an argument from a panel button: a budget amount or a ledger URL from the webview would change them without asking', () => {
    const s = initialState();
    const setKey = { type: 'command', command: 'switchyard.setApiKey', args: ['groq'] };
    assert.deepEqual(admit(s, setKey), { message: setKey });
    for (const [command, args] of [['switchyard.setBudget', ['daily', '1000000']], ['switchyard.connectTeamLedger', ['postgres://elsewhere/ledger']], ['switchyard.switchPolicy', ['cheapest', 'global']]] as const) {
      assert.ok('ignored' in admit(s, { type: 'command', command, args }), command);
      assert.ok('message' in admit(s, { type: 'command', command }), `${command} without arguments asks the user`);
    }
  });

  it('a second prompt that reaches the host while an answer is in flight (a double click) is turned away', () => {
    const first = run([models, { type: 'turnStarted', turn: turn() }]);
    const again = sendIntent(run([models]), 'hi');
    assert.ok('message' in again);
    assert.match((admit(first, again.message) as { ignored: string }).ignored, /in flight/);
    assert.ok('message' in admit(first, { type: 'cancel', turnId: 't1' }), 'Cancel still goes through');
    assert.ok('message' in admit(reduce(first, { type: 'receipt', turnId: 't1', receipt: receipt() }), again.message), 'once it is over, the next prompt goes');
  });

  it('the webview ignores a host message of an unknown type or with missing fields', () => {
    for (const raw of [undefined, { type: 'bogus' }, { type: 'hasOwnProperty' }, { type: 'delta', turnId: 't1', at: 1 }, { type: 'restore', state: {} }, { type: 'turnStarted', turn: {} }, { type: 'connection' }]) {
      assert.ok('problem' in checkHostMessage(raw), JSON.stringify(raw));
    }
    for (const m of [{ type: 'delta', turnId: 't1', text: 'x', at: 1 }, { type: 'restore', state: initialState() }, { type: 'preview', preview: null }, { type: 'cleared' }]) {
      assert.deepEqual(checkHostMessage(m), { message: m });
    }
  });
});

describe('a code block\'s Insert into a new file', () => {
  const fenceOf = (answer: string) => /<code class="language-([^"]*)"/.exec(markdownHtml(answer))?.[1];

  it('opens it in the block\'s language, one highlight.js does not know or under another name included', () => {
    assert.equal(fenceOf('```ruby\nputs 1\n```'), 'ruby');
    assert.equal(fenceOf('```tsx\nconst a = <b/>;\n```'), 'tsx');
    assert.equal(fenceOf('```\nplain\n```'), 'text');
    assert.match(markdownHtml('```ts\nconst x = 1;\n```'), /<code class="language-ts"><span class="hljs-keyword">const<\/span>/, 'a language it knows is still highlighted');
    assert.equal(fenceOf('```a"onclick="x\ny\n```'), 'a&quot;onclick=&quot;x', 'the name stays inside its attribute');
    const ids = ['ruby', 'tsx', 'jsx', 'zsh', 'TS', 'py', 'kt', 'constructor', 'toString'].map(languageId);
    assert.deepEqual(ids, ['ruby', 'typescriptreact', 'javascriptreact', 'shellscript', 'typescript', 'python', 'kotlin', 'constructor', 'tostring']);
  });
});

describe('stopping an answer', () => {
  const placed = (id: string): PanelEvent[] => [{ type: 'turnStarted', turn: turn(id) }, { type: 'placed', turnId: id, requestId: `q-${id}`, placement: placement('groq-hel', [candidate('groq-hel')]) }];

  it('while placing, once the daemon names the request; while streaming, that request; after the end or for an unknown turn, nothing', () => {
    assert.equal(stopPlan(run([{ type: 'turnStarted', turn: turn() }]), 't1'), 'when placed');
    const streaming = run(placed('t1'));
    assert.deepEqual(stopPlan(streaming, 't1'), { requestId: 'q-t1' });
    assert.equal(stopPlan(reduce(streaming, { type: 'receipt', turnId: 't1', receipt: receipt() }), 't1'), null, 'a finished request has nothing to stop');
    assert.equal(stopPlan(reduce(streaming, { type: 'cancelled', turnId: 't1' }), 't1'), null, 'cancelled twice (Escape, then the button) stops it once');
    const refused = run([{ type: 'turnStarted', turn: turn() }, { type: 'failed', turnId: 't1', error: { kind: 'budget', title: '', detail: [], actions: [] } }]);
    assert.equal(stopPlan(refused, 't1'), null, 'refused at placement: nothing will be named to stop');
    assert.equal(stopPlan(streaming, 'nope'), null);
  });

  it('the panel closed or cleared mid-answer: every answer under way has a way to stop, finished ones none', () => {
    const s = run([...placed('t1'), { type: 'receipt', turnId: 't1', receipt: receipt() }, ...placed('t2'), { type: 'turnStarted', turn: turn('t3') }]);
    assert.deepEqual(s.turns.map((t) => stopPlan(s, t.id)), [null, { requestId: 'q-t2' }, 'when placed']);
  });

  const models: PanelEvent = { type: 'models', models: [{ id: 'llama-3.3-70b', sites: 1, available: 1, images: 'no' }] };

  it('Stop while the request is being placed reads cancelled at once, in the webview and the host alike, and the panel takes the next prompt', () => {
    const placing = run([models, { type: 'turnStarted', turn: turn() }]);
    // The webview applies its own Stop before the host hears of it; the host's mirror applies the same message.
    const stopped = reduce(placing, { type: 'cancel', turnId: 't1' });
    assert.equal(stopped.turns[0].status, 'cancelled');
    assert.equal(inFlight(stopped), undefined, 'Cancel hides and Send is back');
    const next = sendIntent(stopped, 'next question');
    assert.ok('message' in next, 'the next prompt can be sent at once');
    assert.ok('message' in admit(stopped, next.message), 'and the host takes it');
  });

  it('what arrives for a stopped request afterwards never draws it as running again: its placement, tokens, a refusal, its receipt', () => {
    const stopped = run([models, { type: 'turnStarted', turn: turn() }, { type: 'cancel', turnId: 't1' }]);
    const late = run([
      { type: 'placed', turnId: 't1', requestId: 'q1', placement: placement('groq-hel', [candidate('groq-hel')]) },
      { type: 'delta', turnId: 't1', text: 'Too late', at: 1200 },
    ], stopped);
    assert.equal(late.turns[0].status, 'cancelled');
    assert.equal(late.turns[0].text, '', 'tokens after the Stop are not shown');
    assert.equal(late.turns[0].requestId, 'q1', 'where it was placed is still told');
    // The daemon stops it once it has an id: its receipt bills what was produced and the turn stays stopped.
    const billed = reduce(late, { type: 'receipt', turnId: 't1', receipt: receipt({ outcome: 'cancelled' }) });
    assert.equal(billed.turns[0].status, 'cancelled');
    assert.equal(billed.turns[0].receipt?.id, 'r1');
    // A receipt that crossed the Stop (the answer ended just before it) keeps the turn stopped: the text after the Stop was not shown, so it is no whole answer for the history.
    const crossed = reduce(late, { type: 'receipt', turnId: 't1', receipt: receipt() });
    assert.equal(crossed.turns[0].status, 'cancelled');
    assert.deepEqual(buildMessages(crossed, 'next').map((m) => m.role), ['user']);
    // Refused after the Stop (the budget ran out meanwhile): nothing was sent, and the user had already stopped it.
    const refused = reduce(stopped, { type: 'failed', turnId: 't1', error: { kind: 'budget', title: 'x', detail: [], actions: [] } });
    assert.equal(refused.turns[0].status, 'cancelled');
    assert.equal(refused.turns[0].error, undefined);
  });

  it('the host tells the daemon once the request it was placing has an id, once; a streaming one at once; a refused or finished one never', () => {
    const sent: string[] = [];
    const stops = new Stops((requestId) => sent.push(requestId));
    const placing = run([{ type: 'turnStarted', turn: turn('t1') }]);
    stops.stop(placing, 't1');
    assert.deepEqual(sent, [], 'no request id yet');
    stops.placed('t1', 'q-t1');
    stops.placed('t1', 'q-t1');
    assert.deepEqual(sent, ['q-t1']);
    stops.stop(run(placed('t2')), 't2');
    assert.deepEqual(sent, ['q-t1', 'q-t2']);
    stops.stop(run([{ type: 'turnStarted', turn: turn('t3') }]), 't3');
    stops.forget('t3');
    stops.placed('t3', 'q-t3');
    stops.stop(run([...placed('t4'), { type: 'receipt', turnId: 't4', receipt: receipt() }]), 't4');
    stops.placed('t5', 'q-t5');
    assert.deepEqual(sent, ['q-t1', 'q-t2']);
  });
});

describe('drawing a streaming answer', () => {
  /**
   * A stream of `deltas` deltas of 8 characters, 20 ms apart, drawn as the webview does: at a delta
   * when drawDelay says so. A draw costs 0.5 ms per KB of answer (markdown-it, highlight.js, DOMPurify).
   */
  function stream(deltas: number): { drawMs: number; draws: number; durationMs: number } {
    const cost = (t: Turn) => (t.text.length / 1024) * 0.5;
    let t = run([{ type: 'turnStarted', turn: turn() }, { type: 'placed', turnId: 't1', requestId: 'q1', placement: placement('groq-hel', [candidate('groq-hel')]) }, { type: 'delta', turnId: 't1', text: 'x', at: 0 }]).turns[0];
    let last = { turn: t, at: 0, costMs: cost(t) };
    let drawMs = last.costMs;
    let draws = 1;
    for (let i = 1; i <= deltas; i++) {
      const now = i * 20;
      t = reduce({ ...initialState(), turns: [t] }, { type: 'delta', turnId: 't1', text: 'abcdefgh', at: now }).turns[0];
      if (drawDelay(last, t, now) > 0) continue;
      last = { turn: t, at: now, costMs: cost(t) };
      drawMs += last.costMs;
      draws++;
    }
    return { drawMs, draws, durationMs: deltas * 20 };
  }

  it('a short answer is drawn at every delta', () => {
    assert.equal(stream(500).draws, 501);
  });

  it('a long one is drawn less often as it grows: drawing stays a fraction of the time, and its total grows linearly, not quadratically', () => {
    const long = stream(10_000);
    const twice = stream(20_000);
    assert.ok(long.drawMs < long.durationMs / 4, `${long.drawMs} ms of drawing in ${long.durationMs} ms`);
    assert.ok(twice.drawMs / long.drawMs < 2.5, `twice the answer, ${twice.drawMs / long.drawMs} times the drawing`);
  });

  it('anything but more text is drawn at once', () => {
    const streaming = run([{ type: 'turnStarted', turn: turn() }, { type: 'delta', turnId: 't1', text: 'x'.repeat(100_000), at: 1 }]);
    const last = { turn: streaming.turns[0], at: 0, costMs: 50 };
    assert.ok(drawDelay(last, reduce(streaming, { type: 'delta', turnId: 't1', text: 'y', at: 2 }).turns[0], 10) > 0);
    for (const event of [{ type: 'receipt', turnId: 't1', receipt: receipt() }, { type: 'cancelled', turnId: 't1' }, { type: 'togglePlacement', turnId: 't1' },
      { type: 'attempt', turnId: 't1', attempt: { requestId: 'q1', attempt: { siteId: 'a', outcome: 'error', ttftMs: null, durationMs: 1 }, next: site('b'), continuation: false } }] as PanelEvent[]) {
      assert.equal(drawDelay(last, reduce(streaming, event).turns[0], 10), 0, event.type);
    }
  });
});

describe('turns the user did not end', () => {
  const models: PanelEvent = { type: 'models', models: [{ id: 'llama-3.3-70b', sites: 1, available: 1, images: 'no' }] };
  const streaming = (id: string, prompt = 'hello'): PanelEvent[] => [{ type: 'turnStarted', turn: turn(id, { prompt }) },
    { type: 'placed', turnId: id, requestId: `q-${id}`, placement: placement('groq-hel', [candidate('groq-hel')]) }, { type: 'delta', turnId: id, text: 'Half an ans', at: 5 }];

  it('an answer the daemon stopped as it shut down or restarted (another window\'s Restart Daemon) says so, rather than reading as the user\'s Cancel', () => {
    // The daemon, stopping, cancels every running request and sends each its receipt before it closes the sockets.
    const s = run([models, ...streaming('t1'), { type: 'receipt', turnId: 't1', receipt: receipt({ outcome: 'cancelled', attempts: [{ siteId: 'groq-hel', outcome: 'cancelled', ttftMs: 100, durationMs: 900 }] }) }]);
    assert.equal(s.turns[0].status, 'error');
    assert.match(s.turns[0].error!.title, /daemon stopped this answer/);
    assert.match(s.turns[0].error!.detail.join(' '), /billed: \$0\.00013/);
    assert.ok(s.turns[0].error!.actions.some((a) => a.command === 'switchyard.restartDaemon'));
    assert.equal(s.turns[0].text, 'Half an ans', 'what was produced stays on screen');
    assert.deepEqual(buildMessages(s, 'next').map((m) => m.content), ['next'], 'and is no answer for the history');
    // The user's own Cancel still reads as one.
    const own = run([models, ...streaming('t1'), { type: 'cancel', turnId: 't1' }, { type: 'receipt', turnId: 't1', receipt: receipt({ outcome: 'cancelled' }) }]);
    assert.equal(own.turns[0].status, 'cancelled');
    assert.equal(own.turns[0].error, undefined);
  });

  it('an answer cut short goes as history marked so, not as a whole answer', () => {
    const s = run([models, ...streaming('t1', 'q1'), { type: 'receipt', turnId: 't1', receipt: receipt({ outcome: 'cut' }) },
      ...streaming('t2', 'q2'), { type: 'receipt', turnId: 't2', receipt: receipt({ outcome: 'length' }) },
      ...streaming('t3', 'q3'), { type: 'receipt', turnId: 't3', receipt: receipt() }]);
    assert.deepEqual(s.turns.map((t) => t.status), ['done', 'done', 'done']);
    const history = buildMessages(s, 'q4').map((m) => `${m.role}:${m.content}`);
    assert.equal(history.length, 7);
    assert.match(history[1], /^assistant:Half an ans\n\n\[.*cut off.*\]$/);
    assert.match(history[3], /^assistant:Half an ans\n\n\[.*(limit|max).*\]$/);
    assert.equal(history[5], 'assistant:Half an ans', 'a whole answer goes as it is');
  });

  it('where a prompt would go is not shown for a prompt already sent: an answer to a preview asked before the send is dropped', () => {
    const p = placement('groq-hel', [candidate('groq-hel')]);
    // The webview asked where "q1" would go, then sent it before the daemon answered the preview.
    const sent = run([models, { type: 'turnStarted', turn: turn('t1', { prompt: 'q1' }) }, { type: 'preview', preview: { placement: p } }]);
    assert.equal(sent.preview, undefined);
    const answered = run([{ type: 'receipt', turnId: 't1', receipt: receipt() }], sent);
    assert.equal(answered.preview, undefined, 'once answered, the line would say where the answered prompt would go');
    // "run here" leaves the draft in the box: where it would go still holds.
    const rerun = run([{ type: 'turnStarted', turn: turn('t2', { prompt: 'q1', rerunOf: 't1' }) }, { type: 'preview', preview: { placement: p } }], answered);
    assert.deepEqual(rerun.preview, { placement: p });
  });
});

describe('a prompt that failed to start', () => {
  it('reads as the daemon out of reach only when no answer came (the connection failed or dropped), never by the words of a refusal', () => {
    // The daemon's own refusal, quoting the team's PostgreSQL going away: the team ledger's error (Connect Team Ledger…), not "restart the daemon".
    assert.equal(neverAnswered({ code: ErrorCodes.TeamLedgerUnavailable }), false);
    assert.equal(neverAnswered({ code: -32603 }), false, 'a daemon error is an answer');
    assert.equal(neverAnswered({ code: ErrorCodes.InvalidParams }), false);
    // vscode-jsonrpc and the language client: the request pending when the socket closed, a client not running, a write that failed.
    for (const code of [-32097, -32096, -32099, -32098]) assert.equal(neverAnswered({ code }), true, String(code));
    assert.equal(neverAnswered(undefined), true, 'not a response at all: the connection threw');
  });
});
