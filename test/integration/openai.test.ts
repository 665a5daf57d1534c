// The OpenAI-compatible endpoint and /metrics, driven by the official `openai` npm client against the
// real bundled daemon: the simulated fleet at 200x wall speed, plus one site in a catalog file that
// points at a fake OpenAI upstream on 127.0.0.1 (to see a client's abort reach the upstream).

import assert from 'node:assert/strict';
import { MAX_MESSAGE_BYTES } from '../../daemon/protocol';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI, { APIError, AuthenticationError } from 'openai';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import * as proto from '../../daemon/protocol';
import { connect, startDaemon, tempDir, waitFor, type RunningDaemon } from '../support/daemon';
import { startFake, type FakeUpstream } from '../fakes/upstream';

const FAKE_SITE = 'fake/local/openai';
const FAKE_PRICE = { inputPer1M: 1, outputPer1M: 2, readOn: '2026-08-01' };

let fake: FakeUpstream;
let d: RunningDaemon;
let rpc: MessageConnection;
let closeRpc: () => void;
let client: OpenAI;
const pushes: proto.SpendSummary[] = [];

before(async () => {
  fake = await startFake('openai');
  const catalogFile = path.join(tempDir('switchyard-openai-catalog-'), 'catalog.json');
  fs.writeFileSync(catalogFile, JSON.stringify({
    sites: [{
      id: FAKE_SITE, provider: 'openai-compatible', region: 'local', location: '127.0.0.1 (fake upstream)', hardware: 'fake',
      endpoint: { kind: 'openai-compatible', baseUrl: fake.baseUrl, idleTimeoutMs: 5000 },
      models: [
        { canonical: 'fake-chat', providerModel: 'gpt-fake', contextWindow: 100_000, images: true, price: FAKE_PRICE, ttftMs: 50, outputTokensPerSecond: 100 },
        { canonical: 'fake-chat-short', providerModel: 'gpt-fake-short', contextWindow: 100_000, maxOutputTokens: 300, price: FAKE_PRICE, ttftMs: 50, outputTokensPerSecond: 100 },
      ],
    }],
  }));
  d = await startDaemon({ args: ['--sim-speed', '200', '--catalog', catalogFile] });
  const c = await connect(d);
  rpc = c.rpc;
  closeRpc = c.close;
  rpc.onNotification(proto.spendChanged, (s) => void pushes.push(s));
  client = new OpenAI({ apiKey: d.state.token, baseURL: `${d.url}/v1`, maxRetries: 0 });
});

after(async () => {
  closeRpc?.();
  await d?.stop();
  await fake?.stop();
});

const user = (content: string): OpenAI.Chat.ChatCompletionMessageParam[] => [{ role: 'user', content }];

async function metrics(): Promise<string> {
  const res = await fetch(`${d.url}/metrics`, { headers: { authorization: `Bearer ${d.state.token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  return res.text();
}

/** Sum of a metric's samples whose labels include every given label. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function ledger(): Promise<proto.Receipt[]> {
  const file = path.join(tempDir('switchyard-openai-export-'), 'ledger.json');
  await rpc.sendRequest(proto.exportLedger, { path: file, format: 'json' });
  return JSON.parse(fs.readFileSync(file, 'utf8')) as proto.Receipt[];
}

test('non-streaming completion: the answer, usage with its cost, and where it ran in the headers', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('Explain queueing.'), max_tokens: 32 }).withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.match(data.choices[0].message.content ?? '', /simulated/);
  assert.ok(['stop', 'length'].includes(data.choices[0].finish_reason));
  const u = data.usage as OpenAI.CompletionUsage & { cost: number; cost_nano_usd: number };
  assert.ok(u.prompt_tokens > 0 && u.completion_tokens > 0);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  assert.ok(u.cost > 0);
  assert.equal(u.cost, u.cost_nano_usd / 1e9);
  const site = response.headers.get('x-switchyard-site');
  assert.ok(site?.startsWith('sim:'), `site header ${site}`);
  assert.equal(Number(response.headers.get('x-switchyard-cost-usd')), u.cost);
  const placementId = response.headers.get('x-switchyard-placement')!;
  assert.ok(placementId);
  // The placement id opens the decision ("why here?").
  const placement = (await (await fetch(`${d.url}/v1/switchyard/placements/${placementId}`, { headers: { authorization: `Bearer ${d.state.token}` } })).json()) as proto.Placement;
  assert.equal(placement.id, placementId);
  assert.equal(placement.chosen, site);
  assert.ok(placement.candidates.length > 1);
  // ... and the editor opens it by the same id over its connection (Switchyard: Show Placement).
  const opened = await rpc.sendRequest(proto.placement, { id: placementId });
  assert.deepEqual(JSON.parse(JSON.stringify(opened)), placement);
  assert.equal(await rpc.sendRequest(proto.placement, { id: 'no-such-placement' }), null);
  await assert.rejects(rpc.sendRequest(proto.placement, {} as proto.PlacementParams), /params\.id must be a placement id/);
  // In the ledger like any editor request, under the client's name, and pushed to the status bar.
  const receipts = await ledger();
  const r = receipts.find((x) => x.placementId === placementId)!;
  assert.equal(r.client, 'openai-api:OpenAI/JS');
  assert.equal(r.cost.totalNanoUsd, u.cost_nano_usd);
  // Listed in the spend view's recent requests, with the placement to open.
  const summary = await rpc.sendRequest(proto.spend, {});
  const latest = summary.recent[0];
  assert.deepEqual([latest.placementId, latest.client, latest.costNanoUsd, latest.site.id], [placementId, 'openai-api:OpenAI/JS', u.cost_nano_usd, site]);
  assert.ok(summary.byClient['openai-api:OpenAI/JS'] >= u.cost_nano_usd, `by client: ${JSON.stringify(summary.byClient)}`);
  await waitFor(() => (pushes.some((s) => s.bySite[site!] >= u.cost_nano_usd) ? true : undefined), 5000, () => 'spendChanged not pushed');
});

test('streaming completion with include_usage: text in chunks, headers up front, cost in the final usage chunk', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'llama-3.3-70b', messages: user('Stream please.'), max_tokens: 24, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const site = response.headers.get('x-switchyard-site');
  assert.ok(site && response.headers.get('x-switchyard-placement'));
  assert.equal(response.headers.get('x-switchyard-cost-usd'), null, 'no cost header before the answer exists');
  let text = '';
  let finish: string | null = null;
  let usage: (OpenAI.CompletionUsage & { cost: number }) | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.choices[0]?.delta.content) text += chunk.choices[0].delta.content;
    if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    if (chunk.usage) {
      assert.equal(chunk.choices.length, 0, 'the usage chunk has no choices');
      usage = chunk.usage as typeof usage;
    }
  }
  assert.ok(chunks >= 3);
  assert.match(text, /simulated/);
  assert.ok(finish === 'stop' || finish === 'length');
  assert.ok(usage && usage.completion_tokens > 0 && usage.cost > 0);
  const r = (await ledger()).find((x) => x.placementId === response.headers.get('x-switchyard-placement'))!;
  assert.equal(r.site.id, site);
  assert.equal(r.cost.totalNanoUsd / 1e9, usage.cost);
});

test('streaming without include_usage sends no usage chunk; the finishing chunk still says where and what it cost', async () => {
  const res = await fetch(`${d.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.state.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama-3.3-70b', messages: user('hi'), max_tokens: 8, stream: true }),
  });
  const events = (await res.text()).split('\n\n').filter(Boolean);
  assert.equal(events.at(-1), 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
  assert.ok(chunks.every((c) => !('usage' in c)));
  const last = chunks.at(-1);
  assert.ok(last.choices[0].finish_reason);
  assert.ok(last.switchyard.cost_usd > 0);
  assert.equal(last.switchyard.site, res.headers.get('x-switchyard-site'));
});

test('a site-qualified model pins the site; x-switchyard-policy picks the policy; an unknown policy is a 400', async () => {
  const pinned = 'sim:groq/eu-helsinki/lpu';
  const models = await client.models.list();
  const ids = models.data.map((m) => m.id);
  assert.ok(ids.includes('llama-3.3-70b'));
  const qualified = ids.find((id) => id.startsWith(`${pinned}/`) && /llama/.test(id))!;
  assert.ok(qualified, `no ${pinned} model in ${ids.join(', ')}`);
  const { response } = await client.chat.completions.create({ model: qualified, messages: user('pin'), max_tokens: 8 }).withResponse();
  assert.equal(response.headers.get('x-switchyard-site'), pinned);

  const { data, response: r2 } = await client.chat.completions
    .create({ model: 'llama-3.3-70b', messages: user('cheap'), max_tokens: 8 }, { headers: { 'x-switchyard-policy': 'cheapest' } })
    .withResponse();
  assert.equal(r2.headers.get('x-switchyard-policy'), 'cheapest');
  assert.equal((data as unknown as { switchyard: { policy: string } }).switchyard.policy, 'cheapest');

  await assert.rejects(
    client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('x'), max_tokens: 8 }, { headers: { 'x-switchyard-policy': 'no-such-policy' } }),
    (e: APIError) => e.status === 400 && e.type === 'invalid_request_error' && /no-such-policy/.test(e.message),
  );
});

test('temperature, top_p, seed and stop from an OpenAI client reach the site; a bad one is a 400 naming it', async () => {
  await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('x'), max_tokens: 8, temperature: 0.25, top_p: 0.5, seed: 3, stop: ['END'] });
  const sent = fake.requests[fake.requests.length - 1].body;
  assert.deepEqual([sent.temperature, sent.top_p, sent.seed, sent.stop], [0.25, 0.5, 3, ['END']]);
  await assert.rejects(
    client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('x'), temperature: 9 }),
    (e: APIError) => e.status === 400 && e.param === 'temperature' && /from 0 to 2/.test(e.message),
  );
});

/** Continue's autocomplete stop list for a chat model: more than OpenAI's 4, with "world" beyond them. */
const LONG_STOPS = ['</COMPLETION>', '\n\n', '/src/', '#- coding: utf-8', '```', 'world'];
/** An answer that would go on for seconds after "world", split across pieces. */
const PAST_THE_STOP = { pieces: ['Hello', ' wor', 'ld', ' and', ...Array.from({ length: 80 }, (_, i) => ` more${i}`)], delayMs: 40 };

/** The receipt of the last request to the fake site, once it is in the ledger. */
const lastFakeReceipt = (placementId: string) => waitFor(async () => (await ledger()).find((x) => x.placementId === placementId), 10_000, () => `no receipt for ${placementId}`);

test('stop: every string ends the answer, beyond the 4 the site takes; the daemon aborts the upstream there and bills what it produced', async () => {
  fake.enqueue(PAST_THE_STOP);
  const before = fake.requests.length;
  const started = Date.now();
  const { data, response } = await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('hi'), stop: LONG_STOPS }).withResponse();
  assert.equal(data.choices[0].message.content, 'Hello ');
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.ok(Date.now() - started < 2000, 'the answer did not wait for the upstream to finish (3.4 s)');
  const sent = fake.requests[before];
  assert.deepEqual(sent.body.stop, LONG_STOPS.slice(0, 4), 'the site is sent the 4 it takes');
  assert.equal(await sent.closed, true, 'the upstream request was aborted');
  const r = await lastFakeReceipt(response.headers.get('x-switchyard-placement')!);
  assert.equal(r.outcome, 'complete');
  // What arrived is billed (the stop string and the piece after it too: the upstream produced them).
  assert.ok(r.tokens.output >= 2 && r.tokens.output < 10, `billed ${r.tokens.output} output tokens`);
  assert.equal(r.tokens.estimated, true);
  assert.ok(r.cost.totalNanoUsd > 0);
});

test('stop, streamed: text before a stop string split across pieces is let through as it comes, the rest never, finish_reason stop', async () => {
  fake.enqueue(PAST_THE_STOP);
  const before = fake.requests.length;
  const stream = await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('hi'), stop: LONG_STOPS, stream: true, stream_options: { include_usage: true } });
  const pieces: string[] = [];
  let finish: string | null = null;
  let usage: (OpenAI.CompletionUsage & { cost: number }) | undefined;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage as typeof usage;
  }
  // " wor" may begin "world": only its space goes out until the next piece settles it.
  assert.deepEqual(pieces, ['Hello', ' ']);
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.completion_tokens > 0 && usage.cost > 0);
  assert.equal(await fake.requests[before].closed, true);
});

test('stop on the editor\'s switchyard/chat: the same list, the same end', async () => {
  fake.enqueue(PAST_THE_STOP);
  let text = '';
  const receipt = new Promise<proto.Receipt>((resolve) => {
    const deltas = rpc.onNotification(proto.chatDelta, (d) => void (text += d.text));
    const receipts = rpc.onNotification(proto.receipt, (p) => {
      if (p.receipt.site.id !== FAKE_SITE) return;
      deltas.dispose();
      receipts.dispose();
      resolve(p.receipt);
    });
  });
  await rpc.sendRequest(proto.chat, { model: `${FAKE_SITE}/gpt-fake`, messages: [{ role: 'user', content: 'hi' }], stop: LONG_STOPS });
  const r = await receipt;
  assert.equal(text, 'Hello ');
  assert.equal(r.outcome, 'complete');
  await assert.rejects(rpc.sendRequest(proto.chat, { model: `${FAKE_SITE}/gpt-fake`, messages: [{ role: 'user', content: 'hi' }], stop: Array.from({ length: 65 }, (_, i) => `S${i}`) }), /params\.stop has 65 strings; at most 64 are taken/);
});

test('an answer the site\'s content filter ended says finish_reason content_filter, JSON and streamed, and is billed', async () => {
  fake.enqueue({ filtered: true });
  const { data, response } = await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('hi') }).withResponse();
  assert.equal(data.choices[0].finish_reason, 'content_filter');
  const r = await lastFakeReceipt(response.headers.get('x-switchyard-placement')!);
  assert.deepEqual([r.outcome, r.filtered], ['complete', true]);
  assert.ok(r.cost.totalNanoUsd > 0);
  fake.enqueue({ filtered: true });
  let finish: string | null = null;
  for await (const chunk of await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('hi'), stream: true })) {
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'content_filter');
});

test('a trailing slash reaches the same routes, as some clients build the URL', async () => {
  const auth = { authorization: `Bearer ${d.state.token}` };
  const answer = await fetch(`${d.url}/v1/chat/completions/`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3.3-70b', messages: user('x'), max_tokens: 4 }) });
  assert.equal(answer.status, 200);
  assert.equal(((await answer.json()) as { object: string }).object, 'chat.completion');
  assert.ok(answer.headers.get('x-switchyard-site'));
  const streamed = await fetch(`${d.url}/v1/chat/completions/?api-version=1`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3.3-70b', messages: user('x'), max_tokens: 4, stream: true }) });
  assert.equal(streamed.status, 200);
  assert.match(await streamed.text(), /data: \[DONE\]\n\n$/);
  const list = await fetch(`${d.url}/v1/models/`, { headers: auth });
  assert.equal(list.status, 200);
  const one = await fetch(`${d.url}/v1/models/llama-3.3-70b/`, { headers: auth });
  assert.equal(one.status, 200);
  assert.equal(((await one.json()) as { id: string }).id, 'llama-3.3-70b');
  const pinned = await fetch(`${d.url}/v1/models/${FAKE_SITE}/gpt-fake/`, { headers: auth });
  assert.equal(((await pinned.json()) as { id: string }).id, `${FAKE_SITE}/gpt-fake`);
  // A disabled site's models are not listed, and not found one by one either (a request naming one is refused).
  const listed = ((await (await fetch(`${d.url}/v1/models`, { headers: auth })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
  assert.ok(!listed.some((id) => id.startsWith('sim:groq/eu-amsterdam/lpu/')) && listed.some((id) => id.startsWith('sim:groq/eu-helsinki/lpu/')));
  assert.equal((await fetch(`${d.url}/v1/models/sim:groq/eu-helsinki/lpu/llama-3.3-70b-versatile`, { headers: auth })).status, 200);
  assert.equal((await fetch(`${d.url}/v1/models/sim:groq/eu-amsterdam/lpu/llama-3.3-70b-versatile`, { headers: auth })).status, 404);
});

test('without max_tokens none is sent: the site\'s own limit applies, and the budget reserves the longest answer it allows', async () => {
  const answer = await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('a long answer, please') });
  assert.equal(answer.choices[0].finish_reason, 'stop');
  assert.ok(!('max_tokens' in fake.requests[fake.requests.length - 1].body));
  // A model whose catalog entry knows its longest answer is asked for at most that, which is what was reserved.
  await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake-short`, messages: user('a long answer, please') });
  assert.equal(fake.requests[fake.requests.length - 1].body.max_tokens, 300);
  // Asked for more than it can give, it is asked for what it can (a provider refuses the rest with a 400).
  const over = await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake-short`, messages: user('a long answer, please'), max_tokens: 5000 });
  assert.equal(over.choices[0].finish_reason, 'stop');
  assert.equal(fake.requests[fake.requests.length - 1].body.max_tokens, 300);
  // The answers are out before their receipts are durable; spend asked for now counts them, none left reserved.
  const { todayNanoUsd: spent, reservedNanoUsd } = await rpc.sendRequest(proto.spend, {});
  assert.equal(reservedNanoUsd, 0);
  // The fake's 100,000-token window at 2 USD per 1M output tokens: ~0.2 USD reserved without a cap.
  await rpc.sendRequest(proto.setBudget, { caps: [{ scope: 'day', capUsd: spent / 1e9 + 0.01, softRatio: 0.8 }] });
  try {
    await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('capped'), max_tokens: 100 });
    await assert.rejects(
      client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('uncapped') }),
      (e: APIError) => e.status === 402 && /could cost up to \$0\.2.*set max_tokens \(without it, the longest answer the site can give is reserved\)/.test(e.message),
    );
  } finally {
    await rpc.sendRequest(proto.setBudget, { caps: [] });
  }
});

test('images: an image_url part reaches a site whose model sees images; the simulated fleet cannot see them, and a 503 says why', async () => {
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  const look: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: png } }] }];
  const answer = await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: look, max_tokens: 16 });
  assert.equal(answer.choices[0].finish_reason, 'stop');
  assert.deepEqual(fake.requests[fake.requests.length - 1].body.messages[0].content, [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: png } }]);
  const refused = await client.chat.completions.create({ model: 'llama-3.3-70b', messages: look, max_tokens: 16 }).then(() => undefined, (e: APIError) => e);
  assert.ok(refused?.status === 503 && /simulated, which sees no images/.test(refused.message), `${refused}`);
  // A refusal's placement opens by its id too ("why not?").
  const id = (refused.error as { switchyard: { placement: proto.Placement } }).switchyard.placement.id;
  const opened = await rpc.sendRequest(proto.placement, { id });
  assert.equal(opened?.chosen, null);
  assert.ok(opened?.candidates.some((c) => c.rejected?.reason === 'capability'));
});

test('images: a screenshot of several MB, as agents send them, is taken', async () => {
  const screenshot = `data:image/png;base64,${Buffer.alloc(6 * 1024 * 1024, 7).toString('base64')}`;
  const answer = await client.chat.completions.create({
    model: `${FAKE_SITE}/gpt-fake`, max_tokens: 16,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is on the screen?' }, { type: 'image_url', image_url: { url: screenshot } }] }],
  });
  assert.equal(answer.choices[0].finish_reason, 'stop');
  const sent = fake.requests[fake.requests.length - 1].body.messages[0].content as { image_url?: { url: string } }[];
  assert.equal(sent[1].image_url?.url, screenshot);
});

test('bad requests are OpenAI-shaped errors that name what is wrong', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-17', messages: user('x') }), (e: APIError) => e.status === 404 && e.code === 'model_not_found' && /gpt-17/.test(e.message));
  await assert.rejects(client.chat.completions.create({ model: 'llama-3.3-70b', messages: [] }), (e: APIError) => e.status === 400 && e.param === 'messages');
  await assert.rejects(
    client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('x'), max_completion_tokens: 0 }),
    (e: APIError) => e.status === 400 && e.param === 'max_completion_tokens' && /max_completion_tokens must be an integer from 1 to/.test(e.message),
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('x'), tools: [{ type: 'function', function: { name: 'f g', parameters: {} } }] }),
    (e: APIError) => e.status === 400 && e.param === 'tools[0].function.name' && /letters, digits/.test(e.message),
  );
  const bad = await fetch(`${d.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${d.state.token}`, 'content-type': 'application/json' }, body: '{nope' });
  assert.equal(bad.status, 400);
  const badBody = (await bad.json()) as { error: { type: string; message: string } };
  assert.equal(badBody.error.type, 'invalid_request_error');
  assert.match(badBody.error.message, /not valid JSON/);
  const huge = await fetch(`${d.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${d.state.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama-3.3-70b', messages: user('x'.repeat(MAX_MESSAGE_BYTES)) }),
  });
  assert.equal(huge.status, 413);
  assert.match(((await huge.json()) as { error: { message: string } }).error.message, /larger than 32 MiB/);
});

const WEATHER: OpenAI.Chat.ChatCompletionTool[] = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}];
const CALL = { id: 'call_h1', name: 'get_weather', arguments: '{"city":"Helsinki"}' };

test('tools: the call comes back as OpenAI writes it, JSON and streamed, with finish_reason tool_calls and the cost', async () => {
  fake.enqueue({ pieces: [], toolCalls: [CALL] });
  const { data, response } = await client.chat.completions.create({ model: 'fake-chat', messages: user('Weather in Helsinki?'), tools: WEATHER, tool_choice: 'auto' }).withResponse();
  assert.equal(response.headers.get('x-switchyard-site'), FAKE_SITE);
  const choice = data.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  assert.deepEqual(choice.message.tool_calls, [{ id: CALL.id, type: 'function', function: { name: CALL.name, arguments: CALL.arguments } }]);
  assert.ok((data.usage as unknown as { cost: number }).cost > 0);
  const sent = fake.requests[fake.requests.length - 1].body;
  assert.equal(sent.tools[0].function.name, 'get_weather');
  assert.equal(sent.tool_choice, 'auto');

  fake.enqueue({ pieces: ['Checking.'], toolCalls: [CALL, { ...CALL, id: 'call_h2', arguments: '{"city":"Tampere"}' }] });
  const stream = await client.chat.completions.create({ model: 'fake-chat', messages: user('Weather in Helsinki and Tampere?'), tools: WEATHER, stream: true, stream_options: { include_usage: true } });
  const calls: { id: string; name: string; arguments: string }[] = [];
  let text = '';
  let finish: string | null = null;
  let pieces = 0;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (!c) continue;
    text += c.delta.content ?? '';
    for (const t of c.delta.tool_calls ?? []) {
      pieces++;
      const call = (calls[t.index] ??= { id: '', name: '', arguments: '' });
      if (t.id) call.id = t.id;
      call.name += t.function?.name ?? '';
      call.arguments += t.function?.arguments ?? '';
    }
    finish = c.finish_reason ?? finish;
  }
  assert.equal(text, 'Checking.');
  assert.deepEqual(calls, [CALL, { ...CALL, id: 'call_h2', arguments: '{"city":"Tampere"}' }]);
  assert.ok(pieces > 2, 'the arguments stream in pieces, as they came');
  assert.equal(finish, 'tool_calls');
});

test('tools: the next turn carries the call and its result to the site; without a site that can call tools, a 503 says why', async () => {
  await client.chat.completions.create({
    model: 'fake-chat',
    tools: WEATHER,
    messages: [
      { role: 'user', content: 'Weather in Helsinki?' },
      { role: 'assistant', content: null, tool_calls: [{ id: CALL.id, type: 'function', function: { name: CALL.name, arguments: CALL.arguments } }] },
      { role: 'tool', tool_call_id: CALL.id, content: '{"celsius":-4}' },
    ],
  });
  const sent = fake.requests[fake.requests.length - 1].body;
  assert.deepEqual(sent.messages.slice(1), [
    { role: 'assistant', content: null, tool_calls: [{ id: CALL.id, type: 'function', function: { name: CALL.name, arguments: CALL.arguments } }] },
    { role: 'tool', tool_call_id: CALL.id, content: '{"celsius":-4}' },
  ]);
  await assert.rejects(
    client.chat.completions.create({ model: 'fake-chat', messages: [{ role: 'tool', tool_call_id: 'call_x', content: '1' }] }),
    (e: APIError) => e.status === 400 && e.param === 'messages[0].tool_call_id' && /messages\[0\]\.tool_call_id "call_x" answers no tool call/.test(e.message),
  );
  // The simulated fleet answers in text only: a request with tools has nowhere to go, and says so.
  await assert.rejects(
    client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('x'), tools: WEATHER }),
    (e: APIError) => e.status === 503 && e.code === 'no_eligible_site' && /cannot call tools/.test(e.message),
  );
});

test('response_format: a schema reaches the site as structured output; JSON cannot be had from the simulated fleet, and a 503 says so', async () => {
  const schema = { type: 'object', properties: { celsius: { type: 'number' } }, required: ['celsius'], additionalProperties: false };
  fake.enqueue({ pieces: ['{"celsius":', '-4}'] });
  const data = await client.chat.completions.create({
    model: 'fake-chat', messages: user('Weather in Helsinki as JSON'),
    response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
  });
  assert.deepEqual(JSON.parse(data.choices[0].message.content ?? ''), { celsius: -4 });
  assert.deepEqual(fake.requests[fake.requests.length - 1].body.response_format, { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } });
  await assert.rejects(
    client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('JSON please'), response_format: { type: 'json_object' } }),
    (e: APIError) => e.status === 503 && e.code === 'no_eligible_site' && /cannot answer in JSON/.test(e.message),
  );
});

test('chat completions, served ahead of Express, passes the same checks: a browser origin is refused, a query string is ignored', async () => {
  const post = (headers: Record<string, string>, path = '/v1/chat/completions') =>
    fetch(`${d.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${d.state.token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'llama-3.3-70b', messages: user('x'), max_tokens: 4 }) });
  type ErrorBody = { error: { message: string; type: string; param: null; code: string } };
  const fromPage = await post({ origin: 'https://evil.example' });
  assert.equal(fromPage.status, 403);
  const refused = (await fromPage.json()) as ErrorBody;
  assert.match(refused.error.message, /browser origin/);
  assert.deepEqual([refused.error.type, refused.error.code], ['invalid_request_error', 'forbidden_origin']);
  const wrongToken = await post({ authorization: 'Bearer nope' });
  assert.equal(wrongToken.status, 401);
  assert.equal(wrongToken.headers.get('www-authenticate'), 'Bearer');
  assert.deepEqual(await wrongToken.json(), { error: { message: 'invalid bearer key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  const nowhere = await post({}, '/v1/completions');
  assert.equal(nowhere.status, 404);
  assert.deepEqual(await nowhere.json(), { error: { message: 'no route POST /v1/completions', type: 'invalid_request_error', param: null, code: 'unknown_url' } });
  const withQuery = await post({}, '/v1/chat/completions?api-version=1');
  assert.equal(withQuery.status, 200);
  assert.ok(withQuery.headers.get('x-switchyard-site'));
});

test('without the token: 401 for the endpoint and for /metrics', async () => {
  const anonymous = new OpenAI({ apiKey: 'not-the-token', baseURL: `${d.url}/v1`, maxRetries: 0 });
  await assert.rejects(anonymous.chat.completions.create({ model: 'llama-3.3-70b', messages: user('x') }), (e: APIError) => e instanceof AuthenticationError && e.code === 'invalid_api_key');
  await assert.rejects(anonymous.models.list(), AuthenticationError);
  assert.equal((await fetch(`${d.url}/metrics`)).status, 401);
});

test('a client that aborts mid-stream aborts the upstream request, and the partial answer is billed', async () => {
  const pieces = Array.from({ length: 40 }, (_, i) => ` word${i}`);
  fake.enqueue({ pieces, delayMs: 40 });
  const before = fake.requests.length;
  const abort = new AbortController();
  const stream = await client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('long answer'), max_tokens: 200, stream: true }, { signal: abort.signal });
  let text = '';
  // The SDK's stream ends quietly when its own signal aborts it.
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (text.includes('word2')) abort.abort();
  }
  assert.ok(!text.includes(`word${pieces.length - 1}`), 'the stream stopped early');
  assert.equal(fake.requests.length, before + 1);
  assert.equal(await fake.requests[before].closed, true, 'the upstream saw its client close');
  const r = await waitFor(async () => (await ledger()).find((x) => x.site.id === FAKE_SITE && x.outcome === 'cancelled'), 10_000, () => 'no cancelled receipt');
  assert.ok(r.tokens.output > 0 && r.tokens.output < pieces.length, `billed ${r.tokens.output} output tokens`);
  assert.ok(r.cost.totalNanoUsd > 0);
});

test('an upstream failure on every site tried is a 502 naming each attempt, JSON and streaming alike', async () => {
  // Every answer fails while this test runs (a pinned request may retry its one site).
  fake.setDefault({ fault: { kind: 'status', status: 500, message: 'fake meltdown' } });
  try {
  await assert.rejects(
    client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('x'), max_tokens: 8 }),
    (e: APIError) => e.status === 502 && e.code === 'upstream_failed' && e.message.includes(FAKE_SITE) && /500|meltdown/.test(e.message),
  );
  // Nothing was streamed before the failure, so the status says it, as OpenAI's would.
  await assert.rejects(
    client.chat.completions.create({ model: `${FAKE_SITE}/gpt-fake`, messages: user('x'), max_tokens: 8, stream: true }),
    (e: APIError) => e.status === 502 && e.code === 'upstream_failed' && e.message.includes(FAKE_SITE),
  );
  } finally {
    fake.setDefault({});
  }
});

test('/metrics reflects the requests: counts by site and outcome, latency, cost and tokens, in flight, breakers, budget', async () => {
  const text = await metrics();
  const fromApi = sample(text, 'switchyard_requests_total', { client: 'openai-api:OpenAI/JS' });
  assert.ok(fromApi >= 4, `requests from the openai client: ${fromApi}`);
  assert.equal(sample(text, 'switchyard_requests_total', { site: FAKE_SITE, outcome: 'cancelled' }), 1);
  assert.ok(sample(text, 'switchyard_requests_total', { site: 'sim:groq/eu-helsinki/lpu' }) >= 1);
  assert.ok(sample(text, 'switchyard_cost_usd_total') > 0);
  assert.ok(sample(text, 'switchyard_tokens_total', { kind: 'output' }) > 0);
  assert.ok(sample(text, 'switchyard_request_duration_seconds_count') >= fromApi);
  assert.ok(sample(text, 'switchyard_time_to_first_token_seconds_count') >= 1);
  assert.ok(sample(text, 'switchyard_errors_total', { site: 'none', reason: 'unknown_model' }) >= 1);
  assert.ok(sample(text, 'switchyard_errors_total', { site: FAKE_SITE, reason: 'upstream' }) >= 2);
  assert.match(text, /switchyard_in_flight\{site="sim:groq\/eu-helsinki\/lpu",provider="groq"\} 0/);
  assert.match(text, /switchyard_breaker_state\{site="sim:groq\/eu-helsinki\/lpu",state="closed"\} 1/);
  assert.ok(sample(text, 'switchyard_spend_usd', { period: 'day' }) > 0);
});

test('/metrics counts the editor\'s refusals too: the same reasons as the endpoint\'s', async () => {
  const count = async (reason: string) => sample(await metrics(), 'switchyard_errors_total', { site: 'none', reason });
  const before = { model: await count('unknown_model'), invalid: await count('invalid_request') };
  await assert.rejects(rpc.sendRequest(proto.chat, { model: 'gpt-17', messages: [{ role: 'user', content: 'x' }] }), /unknown model/);
  await assert.rejects(rpc.sendRequest(proto.chat, { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'x' }], maxTokens: 0 }), /maxTokens/);
  assert.equal(await count('unknown_model'), before.model + 1);
  assert.equal(await count('invalid_request'), before.invalid + 1);
});

test('a request over budget is refused as an OpenAI error that says so, and nothing is billed', async () => {
  const receiptsBefore = (await ledger()).length;
  const refusedBefore = sample(await metrics(), 'switchyard_errors_total', { site: 'none', reason: 'budget' });
  const spentBefore = (await rpc.sendRequest(proto.spend, {})).todayNanoUsd;
  await rpc.sendRequest(proto.setBudget, { caps: [{ scope: 'day', capUsd: spentBefore / 1e9 + 1e-7, softRatio: 0.8 }] });
  await assert.rejects(
    client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('expensive'), max_tokens: 4000 }),
    (e: APIError) => {
      assert.equal(e.status, 402);
      assert.equal(e.type, 'insufficient_quota');
      assert.equal(e.code, 'budget_exceeded');
      assert.match(e.message, /Daily budget .* (reached|would be exceeded)/);
      assert.equal(e.headers?.get('x-should-retry'), 'false');
      return true;
    },
  );
  assert.equal((await ledger()).length, receiptsBefore);
  assert.equal(sample(await metrics(), 'switchyard_errors_total', { site: 'none', reason: 'budget' }), refusedBefore + 1);
  assert.ok(sample(await metrics(), 'switchyard_budget_cap_usd', { scope: 'day' }) > 0);
  await rpc.sendRequest(proto.setBudget, { caps: [] });
});

test('a workspace whose policy is named beyond ASCII gets its answers, the policy percent-encoded in the header, and the daemon stays up', async () => {
  await rpc.sendRequest(proto.configure, { policies: [{ name: '最速', kind: 'fastest' }] });
  await rpc.sendRequest(proto.setPolicy, { name: '最速', workspace: 'ws-intl' });
  const headers = { 'x-switchyard-workspace': 'ws-intl' };
  const { data, response } = await client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('x'), max_tokens: 4 }, { headers }).withResponse();
  assert.equal(decodeURIComponent(response.headers.get('x-switchyard-policy')!), '最速');
  assert.equal((data as unknown as { switchyard: { policy: string } }).switchyard.policy, '最速');
  const stream = await client.chat.completions.create({ model: 'llama-3.3-70b', messages: user('x'), max_tokens: 4, stream: true }, { headers }).withResponse();
  assert.equal(decodeURIComponent(stream.response.headers.get('x-switchyard-policy')!), '最速');
  for await (const _ of stream.data);
  assert.equal(d.process.exitCode, null);
});
