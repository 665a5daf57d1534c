import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import type { ChatSink } from '../../extension/chatRequests';
import { ErrorCodes, type Outcome, type Receipt, type SiteInfo, type SiteModelInfo, type ToolCallDelta } from '../../daemon/protocol';
import { callInput, modelInformation, OfferedModels, refusal, requestOptions, streamAnswer, toChatMessages, waitFor, type ModelInformation } from '../../extension/languageModelParts';
import { describeError } from '../../media/errors';
import { validateMessages } from '../../daemon/chat/validate';

const telemetry: SiteInfo['telemetry'] = { inFlight: 0, queueDepth: null, ttftMs: null, outputTokensPerSecond: null, errorRate: 0, headroom: 1, breaker: 'closed', samples: 0 };

function siteInfo(id: string, unavailable: SiteInfo['unavailable'], models: Partial<SiteModelInfo>[], simulated = false): SiteInfo {
  return {
    site: { id, provider: 'groq', region: id, location: id, hardware: 'lpu', simulated },
    endpointKind: 'openai-compatible',
    unavailable,
    telemetry,
    models: models.map((m) => ({
      canonical: 'llama', providerModel: 'llama', contextWindow: 8000, price: { inputPer1M: 1, outputPer1M: 1, readOn: '2026-01-01' }, ttftMs: 100,
      outputTokensPerSecond: 100, maxOutputTokens: null, images: false, tools: false, ...m,
    })),
  };
}

// vscode's part classes, by shape: what the conversion sees.
const text = (value: string) => ({ value });
const call = (callId: string, name: string, input: object) => ({ callId, name, input });
const result = (callId: string, content: unknown[]) => ({ callId, content });
const data = (bytes: string, mimeType: string) => ({ data: new Uint8Array(Buffer.from(bytes)), mimeType });

describe('vscode.lm models and messages', () => {
  it('offers one model per canonical id among the sites that serve now, with the widest limits and any site\'s capabilities', () => {
    const models = modelInformation([
      siteInfo('a', null, [{ contextWindow: 8000, maxOutputTokens: 2000 }, { canonical: 'gpt', contextWindow: 128_000, images: true, tools: true }]),
      siteInfo('b', null, [{ contextWindow: 32_000, maxOutputTokens: 1000, tools: true }], true),
      siteInfo('c', 'no key', [{ contextWindow: 1_000_000, images: true }]),
      siteInfo('d', 'disabled', [{ canonical: 'claude' }]),
    ]);
    assert.deepEqual(models.map((m) => [m.id, m.maxInputTokens, m.maxOutputTokens, m.capabilities.imageInput, m.capabilities.toolCalling]), [
      ['gpt', 128_000, 128_000, true, true],
      ['llama', 32_000, 2000, false, true],
    ], 'a keyless or disabled site offers nothing; without a catalog maximum, the window bounds the answer');
    const llama = models[1];
    assert.equal(llama.detail, 'Switchyard · 2 sites');
    assert.equal(llama.tooltip, 'Placed per request by your Switchyard routing policy, among:\ngroq · a · lpu\ngroq · b · lpu (simulated)');
  });

  it('leaves room in maxInputTokens for the answer cap every request carries, as the daemon places a prompt only where both fit', () => {
    const sites = [siteInfo('a', null, [{ contextWindow: 8000 }]), siteInfo('b', null, [{ contextWindow: 32_000 }])];
    // Copilot Chat sizes its prompt to maxInputTokens; with switchyard.chat.maxTokens at 1024, a 32 000-token prompt would be refused.
    assert.equal(modelInformation(sites, 1024)[0].maxInputTokens, 30_976);
    assert.equal(modelInformation(sites)[0].maxInputTokens, 32_000, 'no cap: the answer takes what the prompt leaves');
  });

  it('turns a conversation with tool calls, tool results, images and a system message into the contract\'s messages', () => {
    const messages = toChatMessages([
      { role: 3, content: [text('Be brief.')] },
      { role: 1, content: [text('Weather in '), text('Oslo?'), data('PNG', 'image/png')] },
      { role: 2, content: [text('Checking.'), call('c1', 'weather', { city: 'Oslo' }), call('c2', 'time', {})] },
      { role: 1, content: [result('c1', [text('4 °C')]), result('c2', [data('{"h":9}', 'application/json')]), text('And tomorrow?')] },
    ]);
    assert.deepEqual(messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?', images: [{ url: `data:image/png;base64,${Buffer.from('PNG').toString('base64')}` }] },
      { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' }, { id: 'c2', name: 'time', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', content: '4 °C' },
      { role: 'tool', toolCallId: 'c2', content: '{"h":9}' },
      { role: 'user', content: 'And tomorrow?' },
    ]);
    assert.deepEqual(toChatMessages([{ role: 1, content: [result('c1', [text('done')])] }]), [{ role: 'tool', toolCallId: 'c1', content: 'done' }], 'results alone make no empty user message');
  });

  it('leaves out the control data parts Copilot Chat sends along (cache breakpoints, markers): they are not prompt', () => {
    const ephemeral = data('ephemeral', 'cache_control');
    const messages = toChatMessages([
      { role: 3, content: [text('You are a coding assistant.'), ephemeral] },
      { role: 1, content: [text('Fix the bug.'), ephemeral, data('{"a":1}', 'application/json')] },
      { role: 2, content: [text('Looking.'), data('marker123', 'stateful_marker'), call('c1', 'read', {})] },
      { role: 1, content: [result('c1', [text('file body'), ephemeral])] },
    ]);
    assert.deepEqual(messages.map((m) => m.content), ['You are a coding assistant.', 'Fix the bug.{"a":1}', 'Looking.', 'file body']);
  });

  it('shows a model that sees images the images a tool returned, with the user message after the last result, as the contract has images only there', () => {
    const png = data('PNG', 'image/png');
    const url = `data:image/png;base64,${Buffer.from('PNG').toString('base64')}`;
    const calls = { role: 2, content: [call('c1', 'screenshot', {}), call('c2', 'read', {})] };
    // As Copilot Chat sends them: each result in a user message of its own.
    const conversation = [calls, { role: 1, content: [result('c1', [text('The page:'), png])] }, { role: 1, content: [result('c2', [text('body')])] }];
    assert.deepEqual(toChatMessages(conversation, true).slice(1), [
      { role: 'tool', toolCallId: 'c1', content: 'The page:[image/png image, shown in the next user message]' },
      { role: 'tool', toolCallId: 'c2', content: 'body' },
      { role: 'user', content: '', images: [{ url }] },
    ], 'no user message between two results, which would part c2 from its call');
    assert.deepEqual(toChatMessages([...conversation, { role: 1, content: [text('What is wrong?')] }, { role: 2, content: [text('The button.')] }], true).slice(3), [
      { role: 'user', content: 'What is wrong?', images: [{ url }] },
      { role: 'assistant', content: 'The button.' },
    ], 'with what the user wrote next');
    assert.deepEqual(toChatMessages([calls, { role: 1, content: [result('c1', [png]), result('c2', [text('body')]), text('Why?')] }], true).slice(1), [
      { role: 'tool', toolCallId: 'c1', content: '[image/png image, shown in the next user message]' },
      { role: 'tool', toolCallId: 'c2', content: 'body' },
      { role: 'user', content: 'Why?', images: [{ url }] },
    ], 'results and words in one message');
    assert.deepEqual(toChatMessages([calls, conversation[1], { role: 2, content: [text('Done.')] }], true).slice(2), [{ role: 'user', content: '', images: [{ url }] }, { role: 'assistant', content: 'Done.' }]);
    assert.doesNotThrow(() => validateMessages(toChatMessages(conversation, true), 'params.messages'), 'as the daemon takes it');
    // A model no site of which sees images: the request would be refused for the image, so the result says one was there.
    assert.deepEqual(toChatMessages(conversation).slice(1), [{ role: 'tool', toolCallId: 'c1', content: 'The page:[image/png image]' }, { role: 'tool', toolCallId: 'c2', content: 'body' }]);
    // A type the contract does not carry would have the whole conversation refused, now and at every later turn.
    assert.deepEqual(toChatMessages([calls, { role: 1, content: [result('c1', [data('<svg/>', 'image/svg+xml')])] }], true).slice(1), [
      { role: 'tool', toolCallId: 'c1', content: '[image/svg+xml image]' },
    ]);
  });

  it('says where data the model cannot be given was (a PDF or audio a tool returned), rather than leave it out unseen', () => {
    const messages = toChatMessages([
      { role: 2, content: [call('c1', 'fetch', {})] },
      { role: 1, content: [result('c1', [data('%PDF-1.7', 'application/pdf')]), data('RIFF', 'audio/wav'), text('Summarise it.')] },
    ]);
    assert.deepEqual(messages.slice(1).map((m) => m.content), ['[application/pdf data omitted]', '[audio/wav data omitted]Summarise it.']);
    assert.deepEqual(toChatMessages([{ role: 1, content: [data('%PDF', 'application/pdf')] }]), [{ role: 'user', content: '[application/pdf data omitted]' }], 'not an empty conversation the daemon refuses');
  });

  it('passes tools, the required tool mode and the model options the contract knows', () => {
    const tools = [{ name: 'weather', description: 'The weather', inputSchema: { type: 'object' } }, { name: 'now', description: '' }];
    assert.deepEqual(requestOptions({ tools, toolMode: 2, modelOptions: { max_tokens: 300, temperature: 0.2, top_p: 0.9, stop: 'END' } }), {
      tools: [{ name: 'weather', description: 'The weather', parameters: { type: 'object' } }, { name: 'now' }],
      toolChoice: 'required',
      maxTokens: 300,
      sampling: { temperature: 0.2, topP: 0.9 },
      stop: ['END'],
    });
    assert.deepEqual(requestOptions({ tools: [], toolMode: 2 }), {}, 'no tools: no tool choice either');
  });

  it('hands back a call\'s arguments as an object, and names the call when the model wrote something else', () => {
    assert.deepEqual(callInput({ id: 'c', name: 'f', arguments: '{"a":1}' }), { a: 1 });
    assert.deepEqual(callInput({ id: 'c', name: 'f', arguments: ' ' }), {});
    assert.throws(() => callInput({ id: 'c', name: 'f', arguments: '[1]' }), /called f with arguments that are not a JSON object: \[1\]/);
    // A call the token cap cut in the middle: the error names the call, not a bare SyntaxError.
    assert.throws(() => callInput({ id: 'c', name: 'edit_file', arguments: '{"path":"a.ts","text":"fun' }), /call of edit_file is not whole JSON \(an answer cut short in the middle of the call\?\): \{"path"/);
  });
});

// A vscode.CancellationToken the test cancels.
function cancellation() {
  const listeners = new Set<() => void>();
  const token = {
    isCancellationRequested: false,
    onCancellationRequested(listener: () => void) {
      listeners.add(listener);
      return { dispose: () => listeners.delete(listener) };
    },
  };
  return { token, cancel: () => ((token.isCancellationRequested = true), listeners.forEach((l) => l())) };
}

const SITE = { id: 'groq-hel', provider: 'groq', region: 'hel', location: 'Helsinki', hardware: 'lpu', simulated: false } as const;
function receipt(outcome: Outcome, error?: string): { requestId: string; receipt: Receipt } {
  return { requestId: 'r1', receipt: { outcome, error, site: SITE, placementId: 'p1', cost: { totalNanoUsd: 1000 }, tokens: { output: 1024 } } as unknown as Receipt };
}
const started = { requestId: 'r1', placement: {} as never };

/** streamAnswer against a daemon the test plays: what the caller got, what was cancelled, and how the answer settled. */
function answer(token = cancellation().token) {
  const got: unknown[] = [];
  const cancelled: string[] = [];
  let sink: ChatSink | undefined;
  let settled: string | undefined;
  const sent = { count: 0 };
  const done = streamAnswer('llama', {
    start: (s) => ((sink = s), sent.count++, new Promise(() => {})),
    cancel: (id) => cancelled.push(id),
    log: () => {},
  }, {
    text: (value) => got.push(value),
    toolCall: (callId, name, input) => got.push({ callId, name, input }),
  }, token).then(() => (settled = 'resolved'), (e: Error) => (settled = e.message));
  const call = (piece: ToolCallDelta) => sink!.delta({ requestId: 'r1', text: '', toolCall: piece });
  return { got, cancelled, sent, sink: () => sink!, call, settled: async () => (await Promise.race([done, new Promise((r) => setTimeout(r, 20))]), settled) };
}

describe('vscode.lm answers', () => {
  it('streams text as it comes and reports the tool calls, parsed, once the answer is whole', async () => {
    const a = answer();
    a.sink().placed(started);
    a.sink().delta({ requestId: 'r1', text: 'Checking.' });
    a.call({ index: 0, id: 'c1', name: 'weather', arguments: '{"city":' });
    a.call({ index: 0, arguments: '"Oslo"}' });
    a.call({ index: 1, id: 'c2', name: 'time' });
    assert.deepEqual(a.got, ['Checking.']);
    a.sink().receipt(receipt('complete'));
    assert.equal(await a.settled(), 'resolved');
    assert.deepEqual(a.got, ['Checking.', { callId: 'c1', name: 'weather', input: { city: 'Oslo' } }, { callId: 'c2', name: 'time', input: {} }]);
  });

  it('reports no call at all when one of them is not whole JSON, and says which', async () => {
    const a = answer();
    a.sink().placed(started);
    a.call({ index: 0, id: 'c1', name: 'read', arguments: '{"path":"a.ts"}' });
    a.call({ index: 1, id: 'c2', name: 'edit_file', arguments: '{"path":"a.ts","text":"fun' });
    a.sink().receipt(receipt('length'));
    assert.match((await a.settled())!, /call of edit_file is not whole JSON/);
    assert.deepEqual(a.got, [], 'the caller would otherwise run read and never hear of edit_file');
  });

  it('says what to do when the token cap cut a call: Copilot Chat writing a file outgrows the default cap of 1024', async () => {
    const a = answer();
    a.sink().placed(started);
    a.call({ index: 0, id: 'c1', name: 'create_file', arguments: '{"path":"a.ts","content":"export function' });
    a.sink().receipt(receipt('length'));
    const message = (await a.settled())!;
    assert.match(message, /^Switchyard: the answer from groq · hel · lpu reached its token cap \(after 1024 output tokens\) in the middle of a tool call/);
    assert.match(message, /call of create_file is not whole JSON/);
    assert.match(message, /Raise "switchyard\.chat\.maxTokens"/);
    // Written whole yet not JSON: the model's mistake, which no cap explains.
    const b = answer();
    b.sink().placed(started);
    b.call({ index: 0, id: 'c1', name: 'create_file', arguments: '{"path":' });
    b.sink().receipt(receipt('complete'));
    assert.doesNotMatch((await b.settled())!, /maxTokens/);
  });

  it('sends nothing when the caller cancelled before the request went out', async () => {
    const { token, cancel } = cancellation();
    cancel();
    const a = answer(token);
    assert.equal(await a.settled(), 'resolved');
    assert.equal(a.sent.count, 0, 'a request sent now would be placed, reserved and billed for nobody');
  });

  it('on the caller\'s cancel, cancels on the daemon, ends at once and reports nothing more', async () => {
    const { token, cancel } = cancellation();
    const a = answer(token);
    a.sink().placed(started);
    a.sink().delta({ requestId: 'r1', text: 'Once upon' });
    a.call({ index: 0, id: 'c1', name: 'edit_file', arguments: '{"text":"a ti' });
    cancel();
    assert.deepEqual(a.cancelled, ['r1']);
    assert.equal(await a.settled(), 'resolved', 'the caller does not wait for the daemon to stop the site');
    a.sink().delta({ requestId: 'r1', text: ' a time' });
    // The call the cancel cut short is no error of the caller's.
    a.sink().receipt(receipt('cancelled'));
    assert.deepEqual(a.got, ['Once upon']);
  });

  it('cancels a request the caller gave up on while the daemon placed it, once it has an id', async () => {
    const { token, cancel } = cancellation();
    const a = answer(token);
    cancel();
    assert.equal(await a.settled(), 'resolved');
    assert.deepEqual(a.cancelled, []);
    a.sink().placed(started);
    assert.deepEqual(a.cancelled, ['r1']);
  });

  it('fails an answer the daemon cancelled itself (it stopped), rather than pass it off as whole', async () => {
    const a = answer();
    a.sink().placed(started);
    a.sink().delta({ requestId: 'r1', text: 'The first half' });
    a.sink().receipt(receipt('cancelled'));
    assert.match((await a.settled())!, /^Switchyard: the daemon stopped the answer from groq · hel · lpu before it ended/);
  });

  it('fails an answer whose connection to the daemon dropped, saying what to do', async () => {
    const a = answer();
    a.sink().placed(started);
    a.sink().delta({ requestId: 'r1', text: 'The first half' });
    a.sink().lost();
    const message = (await a.settled())!;
    assert.match(message, /^Switchyard: the connection to the daemon dropped during the answer/);
    assert.match(message, /Ask again once Switchyard has reconnected/);
  });

  it('fails an answer that failed or was cut, naming the site and why', async () => {
    const a = answer();
    a.sink().placed(started);
    a.sink().receipt(receipt('cut', 'stream stalled'));
    assert.equal(await a.settled(), 'Switchyard: the answer from groq · hel · lpu was cut off: stream stalled. What it produced is billed.');
  });
});

describe('vscode.lm refusals', () => {
  const model = 'llama-3.3-70b';
  const refused = (input: { code?: number; message: string; data?: unknown; unreachable?: boolean }) => refusal(describeError({ model, policy: 'balanced', ...input }), input.message);

  it('tell "no such model, or no daemon to serve it now" (NotFound) from a budget that blocks the request (Blocked), keeping the daemon\'s words', () => {
    const budget = { kind: 'budget', scope: 'day', capNanoUsd: 1000, spentNanoUsd: 1000, reservedNanoUsd: 0, remainingNanoUsd: 0, worstCaseNanoUsd: 500 };
    const capped = refused({ code: ErrorCodes.BudgetExceeded, message: 'daily budget exceeded: $0.000001 left', data: budget });
    assert.equal(capped.code, 'Blocked');
    assert.match(capped.message, /^Switchyard: Daily budget exhausted/);
    assert.match(capped.message, /daily budget exceeded: \$0\.000001 left/, 'the daemon\'s own message is kept');
    assert.equal(refused({ code: ErrorCodes.TeamLedgerUnavailable, message: 'team ledger unreachable' }).code, 'Blocked');
    const unknown = refused({ code: ErrorCodes.UnknownModel, message: 'unknown model "llama-9"' });
    assert.equal(unknown.code, 'NotFound');
    assert.equal(unknown.message.split('\n').filter((l) => l.includes('unknown model "llama-9"')).length, 1, 'said once');
    const away = refused({ message: 'Switchyard is still connecting to its daemon', unreachable: true });
    assert.equal(away.code, 'NotFound');
    assert.match(away.message, /not reachable[\s\S]*still connecting[\s\S]*nothing was billed/);
    const noKey = { kind: 'no-eligible-site', placement: { id: 'p', policy: 'balanced', model, chosen: null, why: 'no site', decidedAt: '', candidates: [
      { site: { id: 'groq/x', provider: 'groq', region: 'x', location: 'x', hardware: 'lpu', simulated: false }, providerModel: 'm', cost: { totalNanoUsd: 1 }, queueWaitMs: 0, ttftMs: 1, totalMs: 1, inFlight: 0, queueDepth: 0, breaker: 'closed', rejected: { reason: 'no key' } },
    ] } };
    assert.equal(refused({ code: ErrorCodes.NoEligibleSite, message: 'no site', data: noKey }).code, 'NotFound', 'no site it can be sent to now');
  });

  it('leave a refusal of this request (what it needs, the policy\'s limits) and an upstream failure without a code, to be told by their words', () => {
    assert.equal(refused({ code: ErrorCodes.NoEligibleSite, message: 'no eligible site', data: { kind: 'no-eligible-site' } }).code, undefined);
    const upstream = refused({ code: ErrorCodes.UpstreamFailed, message: 'groq: 503 Service Unavailable' });
    assert.equal(upstream.code, undefined);
    assert.match(upstream.message, /^Switchyard: Every site that was tried failed\.\ngroq: 503 Service Unavailable/);
  });
});

describe('vscode.lm models while the daemon is away', () => {
  function store(saved?: unknown) {
    const values = new Map<string, unknown>(saved === undefined ? [] : [['switchyard.lm.models', saved]]);
    return { get: (key: string) => values.get(key), update: async (key: string, value: unknown) => void values.set(key, value) };
  }
  const llama = modelInformation([siteInfo('a', null, [{}])]);
  const warnings: string[] = [];
  const warn = (line: string) => warnings.push(line);

  it('are the last ones the daemon offered, this session\'s or an earlier one\'s, so pickers keep them and a chosen model stays chosen', async () => {
    const kept = store();
    const offered = new OfferedModels(kept);
    assert.deepEqual(await offered.list(undefined, warn), [], 'never connected, nothing known');
    assert.deepEqual(await offered.list(async () => llama, warn), llama);
    assert.deepEqual(await offered.list(undefined, warn), llama, 'disconnected: the last list');
    assert.deepEqual(await offered.list(async () => { throw new Error('socket closed'); }, warn), llama, 'a failed read: the last list');
    assert.match(warnings.at(-1)!, /socket closed/);
    assert.deepEqual(await new OfferedModels(kept).list(undefined, warn), llama, 'the next window, before its daemon is up');
    const none: ModelInformation[] = [];
    assert.deepEqual(await offered.list(async () => none, warn), [], 'the daemon\'s own empty list is the list');
  });

  it('ignore a kept list of another shape (an older version\'s)', async () => {
    assert.deepEqual(await new OfferedModels(store([{ id: 'llama' }])).list(undefined, warn), []);
    assert.deepEqual(await new OfferedModels(store('llama')).list(undefined, warn), []);
  });
});

describe('a vscode.lm request while the daemon (re)starts', () => {
  afterEach(() => mock.timers.reset());

  function signal() {
    const listeners = new Set<() => void>();
    return { on: (listener: () => void) => (listeners.add(listener), { dispose: () => void listeners.delete(listener) }), fire: () => listeners.forEach((l) => l()), listeners };
  }

  it('goes at once when connected, else as soon as the daemon is ready, and leaves no listener behind', async () => {
    assert.equal(await waitFor(() => 'client', [], 1000, cancellation().token), 'client');
    let ready: string | undefined;
    const onReady = signal();
    const waiting = waitFor(() => ready, [onReady.on], 10_000, cancellation().token);
    onReady.fire();
    ready = 'client';
    onReady.fire();
    assert.equal(await waiting, 'client');
    assert.equal(onReady.listeners.size, 0);
  });

  it('gives up after the wait, when the caller cancels, or at once when waiting is pointless (the daemon stopped)', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const onReady = signal();
    const timedOut = waitFor(() => undefined, [onReady.on], 10_000, cancellation().token);
    mock.timers.tick(10_000);
    assert.equal(await timedOut, undefined);
    const { token, cancel } = cancellation();
    const cancelled = waitFor(() => undefined, [onReady.on], 10_000, token);
    cancel();
    assert.equal(await cancelled, undefined);
    let stopped = false;
    const pointless = waitFor(() => (stopped ? false : undefined), [onReady.on], 10_000, cancellation().token);
    stopped = true;
    onReady.fire();
    assert.equal(await pointless, false);
    assert.equal(onReady.listeners.size, 0);
  });
});
