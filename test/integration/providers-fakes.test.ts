// Real providers end to end: the bundled daemon (dist/daemon.js) with a test catalog whose sites point
// at fake upstreams on 127.0.0.1 that speak OpenAI, Anthropic and Gemini wire formats; a client over the
// real WebSocket. The production adapters run unchanged. Each test starts its own daemon so breakers and
// telemetry from one scenario cannot steer the next.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { appendToolCall } from '../../daemon/chat/tools';
import * as proto from '../../daemon/protocol';
import { connect, startDaemon, tempDir, type RunningDaemon } from '../support/daemon';
import { DEFAULT_PIECES, startFake, type FakeUpstream, type Script } from '../fakes/upstream';

const KEYS = {
  OPENAI_API_KEY: 'sk-proj-openaitestkey0123456789abcdef',
  ANTHROPIC_API_KEY: 'sk-ant-anthropictestkey0123456789abc',
  GEMINI_API_KEY: 'AIzaGeminiTestKey0123456789abcdefghijklm',
  GROQ_API_KEY: 'gsk_groqtestkey0123456789abcdefgh',
};
const TEXT = DEFAULT_PIECES.join('');
const MODEL = 'fake-chat';
const PRICE = { inputPer1M: 1, cachedInputPer1M: 0.5, outputPer1M: 2, readOn: '2026-08-01' };

let openai: FakeUpstream;
let anthropic: FakeUpstream;
let gemini: FakeUpstream;
let json: FakeUpstream;
let catalogFile: string;

const SITE = { openai: 'fake/openai/a', anthropic: 'fake/anthropic/b', gemini: 'fake/gemini/c', json: 'fake/groq-json/d' };

function site(id: string, provider: proto.ProviderId, kind: proto.EndpointKind, fake: FakeUpstream, providerModel: string, extra: Record<string, unknown> = {}) {
  return {
    id, provider, region: 'local', location: '127.0.0.1 (fake upstream)', hardware: 'fake',
    endpoint: { kind, baseUrl: fake.baseUrl, idleTimeoutMs: 1500, ...extra },
    models: [{ canonical: MODEL, providerModel, contextWindow: 100_000, price: PRICE, ttftMs: 50, outputTokensPerSecond: 100 }],
  };
}

before(async () => {
  [openai, anthropic, gemini, json] = await Promise.all([startFake('openai'), startFake('anthropic'), startFake('gemini'), startFake('openai')]);
  catalogFile = path.join(tempDir('switchyard-fake-catalog-'), 'catalog.json');
  fs.writeFileSync(catalogFile, JSON.stringify({
    sites: [
      site(SITE.openai, 'openai', 'openai', openai, 'gpt-fake'),
      site(SITE.anthropic, 'anthropic', 'anthropic', anthropic, 'claude-fake'),
      site(SITE.gemini, 'google', 'gemini', gemini, 'gemini-fake'),
      site(SITE.json, 'groq', 'openai-compatible', json, 'llama-fake', { stream: false }),
    ],
  }, null, 2));
});

const daemons: RunningDaemon[] = [];
after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all([openai, anthropic, gemini, json].map((f) => f.stop()));
});

const ORDER = [SITE.openai, SITE.anthropic, SITE.gemini, SITE.json];

async function daemon(): Promise<{ d: RunningDaemon; rpc: MessageConnection; close(): void }> {
  const d = await startDaemon({ args: ['--catalog', catalogFile], env: KEYS });
  daemons.push(d);
  const c = await connect(d);
  await c.rpc.sendRequest(proto.configure, {
    policies: [
      { name: 'fakes-in-order', kind: 'first-fit', order: ORDER, continueOnCut: true },
      { name: 'fakes-no-continue', kind: 'first-fit', order: ORDER },
    ],
  });
  return { d, rpc: c.rpc, close: c.close };
}

interface Run {
  started: proto.ChatStarted;
  text: string;
  /** The tool calls the chatDelta pieces add up to. */
  toolCalls: proto.ToolCall[];
  receipt: proto.Receipt;
  attempts: proto.ChatAttemptParams[];
}

async function chat(rpc: MessageConnection, params: Partial<proto.ChatParams>, onDelta?: (requestId: string) => void): Promise<Run> {
  let requestId: string | undefined;
  // Every delta, in order of arrival; some can beat the chat request's answer, which names the request.
  const deltas: proto.ChatDeltaParams[] = [];
  const attempts: proto.ChatAttemptParams[] = [];
  const earlyAttempts: proto.ChatAttemptParams[] = [];
  let resolveReceipt!: (r: proto.Receipt) => void;
  const receipt = new Promise<proto.Receipt>((resolve) => (resolveReceipt = resolve));
  const subs = [
    rpc.onNotification(proto.chatDelta, (d) => {
      deltas.push(d);
      if (requestId !== undefined && d.requestId === requestId) onDelta?.(requestId);
    }),
    rpc.onNotification(proto.chatAttempt, (a) => {
      if (requestId === undefined) earlyAttempts.push(a);
      else if (a.requestId === requestId) attempts.push(a);
    }),
    rpc.onNotification(proto.receipt, (r) => {
      if (r.requestId === requestId || requestId === undefined) resolveReceipt(r.receipt);
    }),
  ];
  const started = await rpc.sendRequest(proto.chat, {
    model: MODEL, messages: [{ role: 'user', content: 'Say hello to the fake upstream.' }], maxTokens: 64, policy: 'fakes-in-order', ...params,
  });
  requestId = started.requestId;
  attempts.unshift(...earlyAttempts.filter((a) => a.requestId === requestId));
  if (deltas.some((d) => d.requestId === requestId)) onDelta?.(requestId);
  const r = await receipt;
  subs.forEach((s) => s.dispose());
  const mine = deltas.filter((d) => d.requestId === requestId);
  const toolCalls: proto.ToolCall[] = [];
  for (const d of mine) if (d.toolCall) appendToolCall(toolCalls, d.toolCall);
  return { started, text: mine.map((d) => d.text).join(''), toolCalls, receipt: r, attempts };
}

const nano = (tokens: number, usdPer1M: number) => Math.round(tokens * usdPer1M * 1000);
const sumOf = (c: proto.CostBreakdown) => c.inputNanoUsd + c.cachedInputNanoUsd + c.cacheWriteNanoUsd + c.outputNanoUsd + c.requestFeeNanoUsd + c.dataTransferNanoUsd;
const requestsTo = (fake: FakeUpstream) => fake.requests.length;

function assertNoKeys(text: string, where: string): void {
  for (const key of Object.values(KEYS)) {
    assert.ok(!text.includes(key), `${where} contains a key`);
    assert.ok(!text.includes(key.slice(0, 16)), `${where} contains part of a key`);
  }
}

describe('real adapters through the daemon against fake upstreams', () => {
  const formats: [keyof typeof SITE, () => FakeUpstream, string][] = [
    ['openai', () => openai, 'gpt-fake'],
    ['anthropic', () => anthropic, 'claude-fake'],
    ['gemini', () => gemini, 'gemini-fake'],
    ['json', () => json, 'llama-fake'],
  ];
  for (const [name, fake, providerModel] of formats) {
    test(`${name}: text, provider usage and cost on the receipt`, async () => {
      const { rpc, close } = await daemon();
      fake().enqueue({ usage: { input: 1000, cached: 400, output: 6 } });
      const before = requestsTo(fake());
      const out = await chat(rpc, { model: `${SITE[name]}/${providerModel}` });
      close();
      assert.equal(requestsTo(fake()), before + 1);
      const sent = fake().requests[before];
      assert.equal(sent.stream, name !== 'json');
      assert.equal(out.text, TEXT);
      const r = out.receipt;
      assert.equal(r.outcome, 'complete');
      assert.equal(r.site.id, SITE[name]);
      assert.deepEqual(r.tokens, { input: 1000, cachedInput: 400, cacheWrite: 0, output: 6, reasoning: 0, estimated: false });
      assert.equal(r.cost.inputNanoUsd, nano(1000, 1));
      assert.equal(r.cost.cachedInputNanoUsd, nano(400, 0.5));
      assert.equal(r.cost.outputNanoUsd, nano(6, 2));
      assert.equal(r.cost.totalNanoUsd, sumOf(r.cost));
      assert.equal(r.bytesReceived, sent.bytesSent);
      assert.ok(r.ttftMs !== null && r.ttftMs <= r.totalMs);
      assert.equal(r.attempts.length, 1);
    });
  }

  for (const [name, fake, providerModel] of formats.filter(([n]) => n !== 'json')) {
    test(`${name}: tool calls stream to the editor as chatDelta pieces and the receipt bills them`, async () => {
      const { rpc, close } = await daemon();
      const call = { id: 'call_w1', name: 'get_weather', arguments: '{"city":"Helsinki"}' };
      fake().enqueue({ pieces: ['Checking.'], toolCalls: [call], usage: { input: 300, output: 25 } });
      const out = await chat(rpc, {
        model: `${SITE[name]}/${providerModel}`,
        tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      });
      close();
      assert.equal(out.text, 'Checking.');
      // Gemini's calls carry no id on the wire; the library makes one.
      assert.deepEqual(out.toolCalls.map((c) => ({ ...c, id: name === 'gemini' ? 'call_w1' : c.id })), [call]);
      assert.equal(out.receipt.outcome, 'complete');
      assert.deepEqual([out.receipt.tokens.input, out.receipt.tokens.output], [300, 25]);
      assert.equal(out.receipt.cost.outputNanoUsd, nano(25, 2));
    });
  }

  const WEATHER: proto.ToolDefinition[] = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];

  test('tools: a 429 before any output fails over to the next site that can call tools, and the call comes from there', async () => {
    const { rpc, close } = await daemon();
    openai.enqueue({ fault: { kind: 'status', status: 429, retryAfter: '1' } });
    anthropic.enqueue({ pieces: [], toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
    const out = await chat(rpc, { tools: WEATHER });
    close();
    assert.deepEqual(out.receipt.attempts.map((a) => [a.siteId, a.outcome]), [[SITE.openai, 'error'], [SITE.anthropic, 'complete']]);
    assert.equal(out.receipt.site.id, SITE.anthropic);
    assert.deepEqual(out.toolCalls, [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
  });

  test('tools: a stream cut in the middle of a call is billed for what came and not continued as text, even where the policy continues cuts', async () => {
    const { rpc, close } = await daemon();
    const before = requestsTo(anthropic);
    // The call's first event (id and name), then half its arguments, then the stream ends.
    openai.enqueue({ pieces: [], toolCalls: [{ id: 'call_c', name: 'get_weather', arguments: '{"city":"Helsinki, Finland"}' }], fault: { kind: 'cut-in-tools', afterEvents: 2 } });
    const out = await chat(rpc, { tools: WEATHER, policy: 'fakes-in-order' });
    close();
    assert.equal(out.receipt.outcome, 'cut');
    assert.equal(out.receipt.attempts.length, 1, 'no continuation on another site');
    assert.equal(requestsTo(anthropic), before);
    assert.equal(out.toolCalls[0].name, 'get_weather');
    assert.ok(out.toolCalls[0].arguments.length > 0 && !out.toolCalls[0].arguments.endsWith('}'), out.toolCalls[0].arguments);
    assert.equal(out.receipt.tokens.estimated, true);
    assert.ok(out.receipt.tokens.output > 0 && out.receipt.cost.outputNanoUsd > 0, 'the partial call is billed');
  });

  test('cancel mid-stream aborts the upstream request and bills the partial answer', async () => {
    const { rpc, close } = await daemon();
    const pieces = Array.from({ length: 20 }, (_, i) => ` word${i}`);
    openai.enqueue({ pieces, delayMs: 150 });
    const before = requestsTo(openai);
    const beforeB = requestsTo(anthropic);
    let cancelled = false;
    const out = await chat(rpc, {}, (requestId) => {
      if (cancelled) return;
      cancelled = true;
      void rpc.sendRequest(proto.cancel, { requestId });
    });
    close();
    const sent = openai.requests[before];
    assert.equal(await sent.closed, true, 'the fake saw the client close the connection');
    const r = out.receipt;
    assert.equal(r.outcome, 'cancelled');
    assert.ok(out.text.length > 0 && out.text.length < pieces.join('').length);
    assert.ok(r.tokens.output > 0, 'the partial output is billed');
    assert.equal(r.tokens.estimated, true, 'no usage arrived: counted with the tokenizer');
    assert.ok(r.cost.outputNanoUsd > 0 && r.cost.inputNanoUsd > 0);
    assert.equal(requestsTo(anthropic), beforeB, 'no failover after a cancel');
  });

  test('429 with Retry-After fails over to the next site and records both attempts', async () => {
    const { rpc, close } = await daemon();
    openai.enqueue({ fault: { kind: 'status', status: 429, retryAfter: '1', message: 'Rate limit reached for requests' } });
    anthropic.enqueue({ usage: { input: 50, output: 6 } });
    const out = await chat(rpc, {});
    close();
    const r = out.receipt;
    assert.equal(r.outcome, 'complete');
    assert.equal(r.site.id, SITE.anthropic);
    assert.equal(out.text, TEXT);
    assert.deepEqual(r.attempts.map((a) => [a.siteId, a.outcome, a.status ?? null]), [[SITE.openai, 'error', 429], [SITE.anthropic, 'complete', null]]);
    assert.match(r.attempts[0].message ?? '', /Rate limit reached/);
    assert.equal(out.attempts.length, 1);
    assert.equal(out.attempts[0].next?.id, SITE.anthropic);
    assert.equal(out.attempts[0].continuation, false);
    assert.equal(r.tokens.output, 6);
  });

  const failures: [string, Script][] = [
    ['500', { fault: { kind: 'status', status: 500 } }],
    ['a connection reset', { fault: { kind: 'reset', afterChunks: 0 } }],
    ['a stall', { fault: { kind: 'stall', afterChunks: -1 } }],
    ['a malformed event', { fault: { kind: 'malformed', afterChunks: 0 } }],
  ];
  for (const [what, script] of failures) {
    test(`${what} before the first token fails over`, async () => {
      const { rpc, close } = await daemon();
      openai.enqueue(script);
      const before = requestsTo(anthropic);
      const out = await chat(rpc, {});
      close();
      assert.equal(requestsTo(anthropic), before + 1);
      const r = out.receipt;
      assert.equal(r.outcome, 'complete', JSON.stringify(r.attempts));
      assert.equal(r.site.id, SITE.anthropic);
      assert.deepEqual(r.attempts.map((a) => a.outcome), ['error', 'complete']);
      assert.equal(out.text, TEXT);
    });
  }

  test('401 is not retried and the error names the site', async () => {
    const { rpc, close } = await daemon();
    openai.enqueue({ fault: { kind: 'status', status: 401, message: `Incorrect API key provided: ${KEYS.OPENAI_API_KEY}.` } });
    const before = requestsTo(anthropic);
    const out = await chat(rpc, {});
    close();
    assert.equal(requestsTo(anthropic), before, 'no failover on 401');
    const r = out.receipt;
    assert.equal(r.outcome, 'error');
    assert.equal(r.attempts.length, 1);
    assert.equal(r.attempts[0].status, 401);
    assert.match(r.error ?? '', new RegExp(SITE.openai.replace(/\//g, '\\/')));
    assert.match(r.error ?? '', /Incorrect API key provided/);
    assertNoKeys(JSON.stringify(out), 'the receipt');
  });

  test('a cut mid-stream is billed; without continueOnCut the answer stops there', async () => {
    const { rpc, close } = await daemon();
    openai.enqueue({ fault: { kind: 'cut', afterChunks: 3 } });
    const before = requestsTo(anthropic);
    const out = await chat(rpc, { policy: 'fakes-no-continue' });
    close();
    assert.equal(requestsTo(anthropic), before);
    const r = out.receipt;
    assert.equal(r.outcome, 'cut');
    assert.equal(out.text, DEFAULT_PIECES.slice(0, 3).join(''));
    assert.ok(r.tokens.output > 0 && r.cost.outputNanoUsd > 0, 'the partial answer is billed');
    assert.ok(r.bytesReceived > 0);
  });

  test('a continuation goes where the longer prompt it sends fits: a site whose window only the first prompt fits is passed over', async () => {
    const small = path.join(tempDir('switchyard-fake-catalog-'), 'catalog.json');
    const fitted = (s: ReturnType<typeof site>, contextWindow: number) => ({ ...s, models: s.models.map((m) => ({ ...m, contextWindow })) });
    fs.writeFileSync(small, JSON.stringify({
      sites: [
        site(SITE.openai, 'openai', 'openai', openai, 'gpt-fake'),
        // The first prompt and its 64-token cap fit in 100; with the partial answer and the request to go on, they do not.
        fitted(site(SITE.anthropic, 'anthropic', 'anthropic', anthropic, 'claude-fake'), 100),
        site(SITE.gemini, 'google', 'gemini', gemini, 'gemini-fake'),
      ],
    }));
    const d = await startDaemon({ args: ['--catalog', small], env: KEYS });
    daemons.push(d);
    const c = await connect(d);
    await c.rpc.sendRequest(proto.configure, { policies: [{ name: 'fakes-in-order', kind: 'first-fit', order: [SITE.openai, SITE.anthropic, SITE.gemini], continueOnCut: true }] });
    openai.enqueue({ fault: { kind: 'cut', afterChunks: 3 } });
    gemini.enqueue({ pieces: [' fake', ' upstream', '.'] });
    const [toAnthropic, toGemini] = [requestsTo(anthropic), requestsTo(gemini)];
    const out = await chat(c.rpc, {});
    c.close();
    assert.equal(out.attempts[0]?.next?.id, SITE.gemini);
    assert.deepEqual([requestsTo(anthropic) - toAnthropic, requestsTo(gemini) - toGemini], [0, 1]);
    assert.deepEqual(out.receipt.attempts.map((a) => [a.siteId, a.outcome]), [[SITE.openai, 'cut'], [SITE.gemini, 'complete']]);
  });

  test('a cut mid-stream continues on the next site from the partial text when the policy allows', async () => {
    const { rpc, close } = await daemon();
    openai.enqueue({ fault: { kind: 'cut', afterChunks: 3 } });
    anthropic.enqueue({ pieces: [' fake', ' upstream', '.'], usage: { input: 80, output: 3 } });
    const before = requestsTo(anthropic);
    const out = await chat(rpc, {});
    close();
    assert.equal(requestsTo(anthropic), before + 1);
    const continued = anthropic.requests[before].body;
    const partial = DEFAULT_PIECES.slice(0, 3).join('');
    const assistant = (continued.messages as { role: string; content: { text: string }[] }[]).find((m) => m.role === 'assistant');
    assert.ok(assistant, 'the continuation carries the partial answer as an assistant message');
    assert.equal(assistant.content.map((c) => c.text).join(''), partial);
    assert.equal(continued.messages[continued.messages.length - 1].role, 'user', 'and asks to continue');
    assert.equal(out.text, TEXT);
    assert.equal(out.attempts.length, 1);
    assert.equal(out.attempts[0].continuation, true);
    assert.equal(out.attempts[0].attempt.outcome, 'cut');
    assert.equal(out.attempts[0].next?.id, SITE.anthropic);
    const r = out.receipt;
    assert.equal(r.outcome, 'complete');
    assert.deepEqual(r.attempts.map((a) => [a.siteId, a.outcome]), [[SITE.openai, 'cut'], [SITE.anthropic, 'complete']]);
    assert.ok(r.tokens.output > 3, 'both the cut part and the continuation are billed');
    assert.ok(r.cost.inputNanoUsd >= nano(80, 1));
  });

  test('keys never reach the daemon log, the ledger or the state files', async () => {
    const { d, rpc, close } = await daemon();
    openai.enqueue({ fault: { kind: 'status', status: 401, message: `Incorrect API key provided: ${KEYS.OPENAI_API_KEY}` } });
    await chat(rpc, {});
    anthropic.enqueue({ fault: { kind: 'status', status: 403, message: `key ${KEYS.ANTHROPIC_API_KEY} lacks permission` } });
    await chat(rpc, { model: `${SITE.anthropic}/claude-fake` });
    await rpc.sendRequest(proto.setCredentials, { provider: 'mistral', apiKey: 'mistral-secret-key-0123456789' });
    close();
    await d.stop();
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(d.stateDir);
    const log = fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8');
    assert.ok(log.length > 0);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      assertNoKeys(text, file);
      assert.ok(!text.includes('mistral-secret-key-0123456789'), file);
    }
    assertNoKeys(d.stderr(), 'stderr');
  });
});

