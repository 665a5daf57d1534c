import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import * as proto from '../../daemon/protocol';
import { connect, startDaemon, type RunningDaemon } from '../support/daemon';

const daemons: RunningDaemon[] = [];
async function daemon(args: string[] = [], stateDir?: string): Promise<RunningDaemon> {
  // Simulated sites at 200x wall speed: a streamed answer takes milliseconds.
  const started = await startDaemon({ args: ['--sim-speed', '200', ...args], stateDir });
  daemons.push(started);
  return started;
}
after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
});

interface Outcome {
  started: proto.ChatStarted;
  text: string;
  receipt: proto.Receipt;
  attempts: proto.ChatAttemptParams[];
}

/**
 * One set of notification handlers per connection (vscode-jsonrpc keeps one handler per method),
 * dispatching by request id; notifications that beat the chat response are held until it arrives.
 */
function chats(rpc: MessageConnection, onDelta?: (d: proto.ChatDeltaParams) => void) {
  interface Pending { text: string; attempts: proto.ChatAttemptParams[]; done(r: proto.Receipt): void }
  const pending = new Map<string, Pending>();
  const early = new Map<string, ((p: Pending) => void)[]>();
  const route = (id: string, apply: (p: Pending) => void) => {
    const p = pending.get(id);
    if (p) apply(p);
    else early.set(id, [...(early.get(id) ?? []), apply]);
  };
  rpc.onNotification(proto.chatDelta, (d) => {
    onDelta?.(d);
    route(d.requestId, (p) => (p.text += d.text));
  });
  rpc.onNotification(proto.chatAttempt, (a) => route(a.requestId, (p) => p.attempts.push(a)));
  rpc.onNotification(proto.receipt, (r) => route(r.requestId, (p) => p.done(r.receipt)));
  return async (params: proto.ChatParams, onStarted?: (s: proto.ChatStarted) => void): Promise<Outcome> => {
    const started = await rpc.sendRequest(proto.chat, params);
    onStarted?.(started);
    const receipt = await new Promise<proto.Receipt>((resolve) => {
      const p: Pending = { text: '', attempts: [], done: resolve };
      pending.set(started.requestId, p);
      for (const apply of early.get(started.requestId) ?? []) apply(p);
      early.delete(started.requestId);
    });
    const p = pending.get(started.requestId)!;
    pending.delete(started.requestId);
    return { started, text: p.text, receipt, attempts: p.attempts };
  };
}

const ask = (content: string, extra: Partial<proto.ChatParams> = {}): proto.ChatParams => ({
  model: 'llama-3.3-70b',
  messages: [{ role: 'user', content }],
  maxTokens: 64,
  ...extra,
});

test('switchyard/chat on the simulated fleet: placement, streamed text, receipt, spend pushed and durable', async () => {
  const d = await daemon();
  const { rpc, close } = await connect(d);
  const pushed = new Promise<proto.SpendSummary>((resolve) => rpc.onNotification(proto.spendChanged, resolve));
  const out = await chats(rpc)(ask('Explain queueing in one paragraph.'));
  const placement = out.started.placement;
  assert.ok(placement.chosen, placement.why);
  assert.ok(placement.candidates.length > 1, 'every site offering the model is a candidate');
  assert.ok(placement.candidates.some((c) => c.rejected), 'some candidates are passed over, each with a reason');
  for (const c of placement.candidates.filter((c) => c.rejected)) assert.ok(c.rejected!.detail.length > 0);
  assert.match(out.text, /simulated/i);
  const r = out.receipt;
  assert.equal(r.outcome === 'complete' || r.outcome === 'length', true, `outcome ${r.outcome}`);
  // Simulated sites fail 0.2% of requests under a random seed: a failover is allowed, and then the first
  // attempt is at the placed site, every attempt but the last failed, and the receipt names the last.
  assert.equal(r.attempts[0].siteId, placement.chosen);
  assert.equal(r.site.id, r.attempts[r.attempts.length - 1].siteId);
  for (const a of r.attempts.slice(0, -1)) assert.equal(a.outcome, 'error');
  assert.ok(r.tokens.output > 0 && r.tokens.input > 0);
  assert.ok(r.cost.totalNanoUsd > 0);
  assert.equal(
    r.cost.totalNanoUsd,
    r.cost.inputNanoUsd + r.cost.cachedInputNanoUsd + r.cost.cacheWriteNanoUsd + r.cost.outputNanoUsd + r.cost.requestFeeNanoUsd + r.cost.dataTransferNanoUsd,
  );
  assert.ok(r.ttftMs !== null && r.totalMs >= r.ttftMs);
  const spend = await pushed;
  assert.equal(spend.todayNanoUsd, r.cost.totalNanoUsd);
  assert.equal(spend.bySite[r.site.id], r.cost.totalNanoUsd);
  close();
  // The receipt survives a restart.
  await d.stop();
  const again = await daemon([], d.stateDir);
  const c2 = await connect(again);
  const after = await c2.rpc.sendRequest(proto.spend, {});
  assert.equal(after.todayNanoUsd, r.cost.totalNanoUsd);
  assert.equal(after.receipts, 1);
  c2.close();
});

test('bad chat input is refused with an error naming the field, and nothing is billed', async () => {
  const d = await daemon();
  const { rpc, close } = await connect(d);
  await assert.rejects(rpc.sendRequest(proto.chat, { model: 'llama-3.3-70b', messages: [] }), (e: { code: number; message: string }) => e.code === -32602 && /params\.messages/.test(e.message));
  await assert.rejects(rpc.sendRequest(proto.chat, ask('x', { maxTokens: 0 })), /params\.maxTokens must be an integer/);
  await assert.rejects(rpc.sendRequest(proto.chat, { model: 'llama-3.3-70b', messages: [{ role: 'robot', content: 'x' }] } as never), /messages\[0\]\.role/);
  await assert.rejects(rpc.sendRequest(proto.chat, ask('x', { model: 'gpt-17' })), (e: { code: number; message: string }) => e.code === proto.ErrorCodes.UnknownModel && /gpt-17/.test(e.message));
  await assert.rejects(rpc.sendRequest(proto.chat, ask('x', { policy: 'nope' })), /unknown policy "nope"/);
  const spend = await rpc.sendRequest(proto.spend, {});
  assert.equal(spend.receipts, 0);
  close();
});

test('the ledger names the door a request came through, via included, and sums spend by it; countTokens counts text, and messages with their framing', async () => {
  const d = await daemon();
  const { rpc, close } = await connect(d);
  await assert.rejects(rpc.sendRequest(proto.chat, ask('x', { via: 'vscode lm!' })), /params\.via must be 1-40 letters/);
  const send = chats(rpc);
  const lm = await send(ask('Name a river.', { via: 'vscode.lm' }));
  const panel = await send(ask('Name a mountain.'));
  assert.equal(lm.receipt.client, 'editor:vscode.lm');
  assert.equal(panel.receipt.client, 'editor');
  const spend = await rpc.sendRequest(proto.spend, {});
  assert.deepEqual(spend.recent.map((r) => r.client), ['editor', 'editor:vscode.lm']);
  assert.deepEqual(spend.byClient, { 'editor:vscode.lm': lm.receipt.cost.totalNanoUsd, editor: panel.receipt.cost.totalNanoUsd });

  assert.deepEqual(await rpc.sendRequest(proto.countTokens, { text: 'hello world' }), { tokens: 2 });
  // 4 tokens of framing per message and 3 to prime the reply, as OpenAI counts a chat.
  assert.deepEqual(await rpc.sendRequest(proto.countTokens, { messages: [{ role: 'user', content: 'hello world' }] }), { tokens: 2 + 4 + 3 });
  // Counted out of its conversation, a tool result need not follow its call.
  assert.deepEqual(await rpc.sendRequest(proto.countTokens, { messages: [{ role: 'tool', toolCallId: 'c1', content: 'hello world' }] }), { tokens: 9 });
  await assert.rejects(rpc.sendRequest(proto.countTokens, { text: 42 } as never), /params\.text must be a string/);
  await assert.rejects(rpc.sendRequest(proto.countTokens, {} as never), /params\.messages must be a non-empty array/);

  // What vscode.lm needs to describe a model: its output cap and whether it calls tools (the simulated fleet does not).
  const sites = await rpc.sendRequest(proto.sites);
  const simulated = sites.filter((s) => s.site.simulated).flatMap((s) => s.models);
  assert.ok(simulated.length > 0 && simulated.every((m) => !m.tools && !m.images));
  const openai = sites.find((s) => !s.site.simulated && s.endpointKind === 'openai')!;
  assert.ok(openai.models.every((m) => m.tools), 'a real OpenAI site calls tools (once it has a key)');
  assert.ok(openai.models.some((m) => m.images));
  close();
});

test('a residency policy with nothing in range says which constraint excluded what', async () => {
  const d = await daemon();
  const { rpc, close } = await connect(d);
  await rpc.sendRequest(proto.configure, { policies: [{ name: 'mars-only', kind: 'cheapest', constraints: { regions: ['mars-1'] } }] });
  const error = await rpc.sendRequest(proto.chat, ask('hi', { policy: 'mars-only' })).then(
    () => assert.fail('placed outside the allowed regions'),
    (e: { code: number; message: string; data: proto.NoEligibleSiteData }) => e,
  );
  assert.equal(error.code, proto.ErrorCodes.NoEligibleSite);
  assert.match(error.message, /region/);
  const candidates = error.data.placement.candidates;
  assert.ok(candidates.length > 0 && candidates.every((c) => c.rejected), 'nothing is eligible');
  const placeable = candidates.filter((c) => c.rejected!.reason !== 'no key' && c.rejected!.reason !== 'disabled');
  assert.ok(placeable.length > 0 && placeable.every((c) => c.rejected!.reason === 'residency'), JSON.stringify(placeable.map((c) => c.rejected)));
  close();
});

test('a policy no site can meet places by its fallback, and the placement says so; a fallback that would leave the policy\'s regions is refused', async () => {
  const d = await daemon();
  const { rpc, close } = await connect(d);
  await rpc.sendRequest(proto.configure, { policies: [{ name: 'instant', kind: 'cheapest', constraints: { maxTtftMs: 1 }, fallback: 'fastest' }] });
  const out = await chats(rpc)(ask('hello', { policy: 'instant' }));
  const p = out.started.placement;
  assert.deepEqual([p.policy, p.fallbackOf], ['fastest', 'instant']);
  assert.match(p.why, /^no eligible site for llama-3\.3-70b: .*over max TTFT 1 ms.*; fell back to fastest: /);
  assert.equal(out.receipt.site.id, p.chosen);
  assert.ok(out.receipt.outcome === 'complete' || out.receipt.outcome === 'length', out.receipt.outcome);
  // What stops the fallback stops the request, and the refusal says so: here the budget, not the TTFT limit.
  await rpc.sendRequest(proto.setBudget, { caps: [{ scope: 'day', capUsd: 0, softRatio: 0.8 }] });
  await assert.rejects(rpc.sendRequest(proto.chat, ask('hello again', { policy: 'instant' })), (e: { code: number; data: proto.BudgetExceededData }) =>
    e.code === proto.ErrorCodes.BudgetExceeded && e.data.scope === 'day');
  await rpc.sendRequest(proto.setBudget, { caps: [] });

  await assert.rejects(
    rpc.sendRequest(proto.configure, { policies: [{ name: 'eu-instant', kind: 'cheapest', constraints: { maxTtftMs: 1, regions: ['eu'] }, fallback: 'fastest' }] }),
    (e: { code: number; message: string }) => e.code === -32602 && /policy "eu-instant": fallback "fastest" may place outside constraints\.regions \[eu\]/.test(e.message),
  );
  // Refused whole: the previous policies stay.
  assert.ok((await rpc.sendRequest(proto.policies, {})).policies.some((x) => x.name === 'instant'));
  close();
});

test('policies are listed and switched at once, globally and per workspace', async () => {
  const d = await daemon();
  const { rpc, close } = await connect(d);
  const listed = await rpc.sendRequest(proto.policies, {});
  assert.ok(['cheapest', 'fastest', 'balanced', 'interactive', 'eu-only'].every((n) => listed.policies.some((p) => p.name === n)));
  await rpc.sendRequest(proto.setPolicy, { name: 'eu-only', workspace: '/ws/a' });
  assert.equal((await rpc.sendRequest(proto.policies, { workspace: '/ws/a' })).active, 'eu-only');
  assert.equal((await rpc.sendRequest(proto.policies, { workspace: '/ws/b' })).active, listed.active);
  const out = await chats(rpc)(ask('hello', { workspace: '/ws/a' }));
  assert.equal(out.receipt.policy, 'eu-only');
  assert.ok(out.started.placement.candidates.filter((c) => !c.rejected).length > 0);
  const chosen = out.started.placement.candidates.find((c) => c.site.id === out.started.placement.chosen)!;
  assert.match(chosen.site.region, /^(eu|europe)|swedencentral|eu-/);
  await assert.rejects(rpc.sendRequest(proto.setPolicy, { name: 'nope' }), /unknown policy/);
  close();
});

test('cancel stops the stream and bills what was produced', async () => {
  const d = await startDaemon({ args: ['--sim-speed', '2'] });
  daemons.push(d);
  const { rpc, close } = await connect(d);
  let first: () => void;
  const firstDelta = new Promise<void>((resolve) => (first = resolve));
  const out = chats(rpc, () => first())( ask('Write a long essay.', { maxTokens: 2000 }), (started) => {
    void firstDelta.then(() => rpc.sendRequest(proto.cancel, { requestId: started.requestId }));
  });
  const { receipt } = await out;
  assert.equal(receipt.outcome, 'cancelled');
  assert.ok(receipt.tokens.output > 0, 'tokens produced before the cancel are counted');
  assert.ok(receipt.cost.outputNanoUsd > 0, 'and billed');
  assert.ok(receipt.tokens.output < 2000);
  close();
});

test('hundreds of concurrent chats never overshoot a small daily cap; refusals carry the numbers', async () => {
  const d = await daemon();
  const { rpc, close } = await connect(d);
  const cap = 0.0005;
  await rpc.sendRequest(proto.setBudget, { caps: [{ scope: 'day', capUsd: cap, softRatio: 0.8 }] });
  const chat = chats(rpc);
  const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => chat(ask(`question ${i}`, { maxTokens: 200 }))));
  const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { code: number; data: proto.BudgetExceededData; message: string });
  assert.ok(refused.length > 0, 'the cap refuses some');
  assert.ok(results.some((r) => r.status === 'fulfilled'), 'and admits some');
  for (const e of refused) {
    assert.equal(e.code, proto.ErrorCodes.BudgetExceeded, e.message);
    assert.equal(e.data.scope, 'day');
    assert.equal(e.data.capNanoUsd, cap * 1e9);
    assert.ok(e.data.worstCaseNanoUsd > e.data.remainingNanoUsd);
    assert.match(e.message, /budget/i);
  }
  const spend = await rpc.sendRequest(proto.spend, {});
  assert.ok(spend.todayNanoUsd <= cap * 1e9, `spent ${spend.todayNanoUsd} over cap`);
  assert.equal(spend.budgets[0].state === 'exceeded' || spend.budgets[0].state === 'warn' || spend.budgets[0].state === 'ok', true);
  close();
});

test('credentials: keys are accepted, listed by provider, and never reach the log', async () => {
  const d = await daemon(['--log-level', 'trace']);
  const { rpc, close } = await connect(d);
  const key = 'gsk_' + 'Z'.repeat(40);
  const result = await rpc.sendRequest(proto.setCredentials, { provider: 'groq', apiKey: key });
  assert.deepEqual(result.providersWithKeys, ['groq']);
  await assert.rejects(rpc.sendRequest(proto.setCredentials, { provider: 'nobody' as never, apiKey: key }), /params\.provider/);
  const sites = await rpc.sendRequest(proto.sites);
  const groq = sites.find((s) => s.site.id === 'groq/eu-helsinki/lpu')!;
  assert.equal(groq.unavailable, null, 'a keyed provider becomes placeable');
  // What the prompt panel tells the user before they send images: the real site's model sees them, its twin none.
  const seesImages = (id: string) => sites.find((s) => s.site.id === id)!.models.find((m) => m.canonical === 'gpt-4o')!.images;
  assert.equal(seesImages('openai/us/managed'), true);
  assert.equal(seesImages('sim:openai/us/managed'), false);
  assert.ok(groq.models.every((m) => m.images === false), 'Llama on Groq takes text only');
  assert.equal((await rpc.sendRequest(proto.setCredentials, { provider: 'groq', apiKey: null })).providersWithKeys.length, 0);
  close();
  await d.stop();
  const log = fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8');
  assert.ok(log.includes('credentials changed'));
  assert.ok(!log.includes(key));
});

test('previewChat says where chat would place a request and what it would cost, and changes nothing: no request in flight, no reservation, no spend', async () => {
  const d = await daemon();
  const { rpc, close } = await connect(d);
  const siteInFlight = async (id: string) => (await rpc.sendRequest(proto.sites)).find((s) => s.site.id === id)!.telemetry.inFlight;
  const preview = await rpc.sendRequest(proto.previewChat, ask('where would this go?', { policy: 'cheapest' }));
  assert.ok(preview.chosen, preview.why);
  assert.match(preview.why, /^cheapest: /);
  const chosen = preview.candidates.find((c) => c.site.id === preview.chosen)!;
  assert.ok(chosen.cost.totalNanoUsd > 0 && !chosen.rejected);
  // Asked a hundred times, it is counted nowhere: the same site stays the cheapest and idle.
  for (let i = 0; i < 100; i++) assert.equal((await rpc.sendRequest(proto.previewChat, ask('where would this go?', { policy: 'cheapest' }))).chosen, preview.chosen);
  assert.equal(await siteInFlight(preview.chosen!), 0);
  const spend = await rpc.sendRequest(proto.spend, {});
  assert.deepEqual([spend.receipts, spend.reservedNanoUsd], [0, 0]);
  assert.equal(await rpc.sendRequest(proto.placement, { id: preview.id }), null, 'a preview is not kept as a placement');
  // The request itself goes where the preview said.
  const outcome = await chats(rpc)(ask('where would this go?', { policy: 'cheapest' }));
  assert.equal(outcome.started.placement.chosen, preview.chosen);

  // What a budget would refuse is a placement with nothing chosen, saying so; bad params are refused as by chat.
  await rpc.sendRequest(proto.setBudget, { caps: [{ scope: 'day', capUsd: 0.000001, softRatio: 0.8 }] });
  const refused = await rpc.sendRequest(proto.previewChat, ask('and now?', { maxTokens: 4000 }));
  assert.equal(refused.chosen, null);
  assert.match(refused.why, /remaining budget/);
  const bad = await rpc.sendRequest(proto.previewChat, { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }).then(() => null, (e: { code: number }) => e);
  assert.equal(bad?.code, proto.ErrorCodes.UnknownModel);
  close();
});

test('--sim-seed: two daemons with the same seed give the same prompts the same simulated answers, another seed other ones; the log says the seed', async () => {
  const prompts = ['Name three sorting algorithms.', 'What is a monad?', 'Summarise TCP slow start.'];
  // Pinned to one simulated site, so only the fleet's draws decide the answers, not a placement.
  const answers = async (seed: string) => {
    const d = await daemon(['--sim-seed', seed]);
    const { rpc, close } = await connect(d);
    const chat = chats(rpc);
    const got: { text: string; output: number }[] = [];
    for (const p of prompts) {
      const out = await chat(ask(p, { model: 'sim:together/us/h100/llama-3.3-70b', maxTokens: 4096 }));
      assert.equal(out.receipt.site.id, 'sim:together/us/h100');
      got.push({ text: out.text, output: out.receipt.tokens.output });
    }
    close();
    await d.stop();
    const seeded = fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; seed?: number; chosen?: boolean }).find((l) => l.msg === 'simulated fleet seeded');
    assert.deepEqual({ seed: seeded?.seed, chosen: seeded?.chosen }, { seed: Number(seed), chosen: true });
    return got;
  };
  const first = await answers('7');
  assert.deepEqual(await answers('7'), first);
  const other = await answers('8');
  assert.notDeepEqual(other.map((a) => a.output), first.map((a) => a.output), 'another seed draws other answer lengths');
});

test('a window that closes in the middle of an answer cancels it, and the daemon serving the other windows stays up', async () => {
  // Real speed: the answer streams for a while.
  const d = await startDaemon({ args: ['--sim-seed', '7'] });
  daemons.push(d);
  const [leaving, staying] = [await connect(d), await connect(d)];
  const firstDelta = new Promise<void>((resolve) => leaving.rpc.onNotification(proto.chatDelta, () => resolve()));
  const { requestId } = await leaving.rpc.sendRequest(proto.chat, { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'A long answer, please.' }], maxTokens: 2000, policy: 'cheapest' });
  await firstDelta;
  leaving.socket.on('error', () => {});
  leaving.close();
  const ledger = path.join(d.stateDir, 'ledger');
  const receipt = await waitForReceipt(ledger, requestId);
  assert.equal(receipt.outcome, 'cancelled');
  assert.ok(receipt.tokens.output > 0 && receipt.cost.totalNanoUsd > 0, 'what was produced is billed');
  assert.equal(d.process.exitCode, null, `the daemon exited: ${d.stderr()}`);
  assert.equal((await staying.rpc.sendRequest(proto.status)).clients, 1);
  staying.close();
});

test('SIGTERM in the middle of an answer cancels it; its receipt is in the ledger, and its window is told, before the daemon exits', async () => {
  // Real speed: the answer is still streaming when the signal comes.
  const d = await startDaemon({ args: ['--sim-seed', '7'] });
  daemons.push(d);
  const client = await connect(d);
  client.socket.on('error', () => {});
  const firstDelta = new Promise<void>((resolve) => client.rpc.onNotification(proto.chatDelta, () => resolve()));
  const told = new Promise<proto.Receipt>((resolve) => client.rpc.onNotification(proto.receipt, (r) => resolve(r.receipt)));
  const { requestId } = await client.rpc.sendRequest(proto.chat, { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'A long answer, please.' }], maxTokens: 2000, policy: 'cheapest' });
  await firstDelta;
  assert.equal(await d.stop(), 0);
  const receipt = await waitForReceipt(path.join(d.stateDir, 'ledger'), requestId);
  assert.equal(receipt.outcome, 'cancelled');
  assert.ok(receipt.tokens.output > 0 && receipt.cost.totalNanoUsd > 0, 'what was streamed is billed');
  const heard = await Promise.race([told, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000))]);
  assert.equal(heard?.id, receipt.id, 'the window hears the receipt before its connection closes');
  client.close();
});

async function waitForReceipt(ledger: string, requestId: string): Promise<proto.Receipt> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const lines = fs.existsSync(ledger) ? fs.readdirSync(ledger).filter((f) => f.endsWith('.jsonl')).flatMap((f) => fs.readFileSync(path.join(ledger, f), 'utf8').split('\n')) : [];
    const found = lines.filter(Boolean).map((l) => (JSON.parse(l) as { receipt: proto.Receipt }).receipt).find((r) => r.requestId === requestId);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no receipt for ${requestId}`);
}
