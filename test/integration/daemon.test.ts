import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as proto from '../../daemon/protocol';
import { freePort } from '../../scripts/ports.cjs';
import { connect, DAEMON, openSocket, rawExchange, startDaemon, tempDir, waitFor, type RunningDaemon } from '../support/daemon';
import { startFake } from '../fakes/upstream';

const daemons: RunningDaemon[] = [];
async function daemon(options?: Parameters<typeof startDaemon>[0]): Promise<RunningDaemon> {
  const started = await startDaemon(options);
  daemons.push(started);
  return started;
}
after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
});

test('healthz answers without a token and holds no secret', async () => {
  const d = await daemon();
  const response = await fetch(`${d.url}/healthz`);
  assert.equal(response.status, 200);
  const body = await response.text();
  assert.deepEqual(JSON.parse(body), { ok: true, name: 'switchyard', version: d.state.version });
  assert.ok(!body.includes(d.state.token));
});

test('HTTP: 401 without or with a wrong token, 403 for a browser origin or a rebinding host', async () => {
  const d = await daemon();
  assert.equal((await fetch(`${d.url}/anything`)).status, 401);
  assert.equal((await fetch(`${d.url}/anything`, { headers: { Authorization: 'Bearer nope' } })).status, 401);
  const ok = await fetch(`${d.url}/anything`, { headers: { Authorization: `Bearer ${d.state.token}` } });
  assert.equal(ok.status, 404, 'authorised requests reach routing');
  const origin = await fetch(`${d.url}/healthz`, { headers: { Origin: 'https://evil.example' } });
  assert.equal(origin.status, 403);
  assert.match(((await origin.json()) as { error: { message: string } }).error.message, /browser origin/);
  // fetch will not let us forge Host; a raw request can, as a rebinding attacker's page would.
  const status = await new Promise<number>((resolve, reject) => {
    const http = require('node:http') as typeof import('node:http');
    http.get({ host: '127.0.0.1', port: d.state.port, path: '/healthz', headers: { Host: 'attacker.example' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.equal(status, 403);
});

test('WebSocket upgrade: refused with 401/403 before any socket exists', async () => {
  const d = await daemon();
  await assert.rejects(openSocket(d, { Authorization: '' }), { status: 401 });
  await assert.rejects(openSocket(d, { Authorization: 'Bearer wrong' }), { status: 401 });
  await assert.rejects(openSocket(d, { Origin: 'https://evil.example' }), { status: 403 });
  await assert.rejects(openSocket(d, { Host: 'attacker.example' }), { status: 403 });
});

test('other tools keep one key across restarts: it opens the HTTP routes, never /rpc; on a fixed port the URL stays too', async () => {
  const port = await freePort();
  const first = await daemon({ args: ['--port', String(port)] });
  const client = await connect(first);
  const info = await client.rpc.sendRequest(proto.endpoint);
  client.close();
  const keyFile = path.join(first.stateDir, 'endpoint-key');
  assert.deepEqual(info, { baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: fs.readFileSync(keyFile, 'utf8').trim(), keyFile, fixedPort: true });
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  const models = (key: string) => fetch(`${info.baseUrl}/models`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal((await models(info.apiKey)).status, 200);
  await assert.rejects(openSocket(first, { Authorization: `Bearer ${info.apiKey}` }), { status: 401 }, 'the editor connection takes the token only');
  await first.stop();
  const second = await daemon({ stateDir: first.stateDir, args: ['--port', String(port)] });
  assert.notEqual(second.state.token, first.state.token);
  assert.equal((await models(info.apiKey)).status, 200, 'the same URL and key after a restart');
  assert.equal((await models(first.state.token)).status, 401, 'the old token went with the old process');
  assert.ok(!fs.readFileSync(path.join(second.stateDir, 'daemon.log'), 'utf8').includes(info.apiKey), 'the key never reaches the log');
  // Any free port: the key still holds, and the endpoint says the URL will not.
  await second.stop();
  const third = await daemon({ stateDir: first.stateDir });
  const c3 = await connect(third);
  assert.deepEqual(await c3.rpc.sendRequest(proto.endpoint), { ...info, baseUrl: `http://127.0.0.1:${third.state.port}/v1`, fixedPort: false });
  c3.close();
});

test('switchyard/status round trip over the real WebSocket', async () => {
  const d = await daemon({ args: ['--sim-seed', '31337'] });
  const client = await connect(d);
  const status = await client.rpc.sendRequest(proto.status);
  assert.equal(status.pid, d.state.pid);
  assert.equal(status.protocolVersion, proto.PROTOCOL_VERSION);
  assert.equal(status.clients, 1);
  assert.equal(status.stateDir, d.stateDir);
  assert.ok(status.uptimeMs >= 0);
  assert.equal(status.simulationSeed, 31337);
  client.close();
});

/** An editor connected to `d` that records every catalog change it hears, and a catalog file switching Helsinki off. */
async function editorWithCatalog(d: RunningDaemon) {
  const client = await connect(d);
  const heard: proto.CatalogSummary[] = [];
  client.rpc.onNotification(proto.catalogChanged, (s) => void heard.push(s));
  const file = path.join(d.stateDir, 'catalog.json');
  fs.writeFileSync(file, JSON.stringify({ sites: [{ id: 'groq/eu-helsinki/lpu', disabled: true }] }));
  return { client, heard, file };
}

test('every editor hears when the catalog reloads, and when a reload is refused with the file, entry and field', async () => {
  const d = await daemon();
  const { client, heard, file } = await editorWithCatalog(d);
  await client.rpc.sendRequest(proto.configure, { catalogFile: file });
  const loaded = await waitFor(() => heard.find((s) => s.error === null && s.files.includes(file)), 5000, () => `heard ${JSON.stringify(heard)}`);
  assert.ok(loaded.sites > 10);
  fs.writeFileSync(file, JSON.stringify({ sites: [{ id: 'groq/eu-helsinki/lpu', concurrency: 0 }] }));
  const refused = await waitFor(() => heard.find((s) => s.error !== null), 5000, () => `heard ${JSON.stringify(heard)}`);
  assert.match(refused.error!, /catalog\.json: sites\[0\] "groq\/eu-helsinki\/lpu": concurrency must be an integer >= 1, got 0/);
  // The previous catalog stays in force: the site is still disabled.
  const sites = await client.rpc.sendRequest(proto.sites);
  assert.equal(sites.find((s) => s.site.id === 'sim:groq/eu-helsinki/lpu')?.unavailable, 'disabled');
  assert.equal((await client.rpc.sendRequest(proto.status)).catalog?.error, refused.error);
  client.close();
});

test('malformed JSON gets a parse error, unknown methods MethodNotFound, and the connection lives on', async () => {
  const d = await daemon();
  const socket = await openSocket(d);
  const parse = (await rawExchange(socket, '{"jsonrpc": "2.0", "id": 1, "method": ')) as { error: { code: number }; id: null };
  assert.equal(parse.error.code, -32700);
  assert.equal(parse.id, null);
  const invalid = (await rawExchange(socket, '[1,2]')) as { error: { code: number } };
  assert.equal(invalid.error.code, -32600);
  const unknown = (await rawExchange(socket, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'switchyard/nope' }))) as { id: number; error: { code: number } };
  assert.deepEqual([unknown.id, unknown.error.code], [2, -32601]);
  const status = (await rawExchange(socket, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'switchyard/status' }))) as { id: number; result: proto.StatusResult };
  assert.equal(status.result.pid, d.state.pid);
  socket.close();
});

test('an oversized message closes only that socket, with 1009; others are still served', async () => {
  const d = await daemon();
  const bystander = await connect(d);
  const socket = await openSocket(d);
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.send('x'.repeat(proto.MAX_MESSAGE_BYTES + 1));
  assert.equal(await closed, 1009);
  const clients = await waitFor(async () => {
    const status = await bystander.rpc.sendRequest(proto.status);
    return status.clients === 1 ? status.clients : undefined;
  }, 5000, () => 'the daemon still counts the closed socket');
  assert.equal(clients, 1);
  bystander.close();
});

test('an LSP exit from one window ends its socket, never the shared daemon', async () => {
  const d = await daemon();
  const socket = await openSocket(d);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: 999999, capabilities: {}, rootUri: null } }));
  socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'exit' }));
  await closed;
  const client = await connect(d);
  assert.equal((await client.rpc.sendRequest(proto.status)).pid, d.state.pid);
  client.close();
});

test('a second daemon on the same state dir is refused while the first lives', async () => {
  const d = await daemon();
  const second = spawn(process.execPath, [DAEMON, '--port', '0', '--state-dir', d.stateDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
  assert.equal(code, 3);
  assert.match(stderr, new RegExp(`already running.*pid ${d.state.pid}|pid ${d.state.pid}.*already running`));
  const state = JSON.parse(fs.readFileSync(path.join(d.stateDir, 'daemon.json'), 'utf8')) as proto.DaemonState;
  assert.equal(state.pid, d.state.pid, 'the live daemon keeps its state file');
});

test('a stale state file from a killed daemon is taken over', async () => {
  const first = await daemon();
  first.process.kill('SIGKILL');
  await first.exited;
  assert.ok(fs.existsSync(path.join(first.stateDir, 'daemon.json')), 'SIGKILL leaves the file behind');
  const second = await daemon({ stateDir: first.stateDir });
  assert.notEqual(second.state.pid, first.state.pid);
  assert.notEqual(second.state.token, first.state.token, 'each start has a fresh token');
  assert.equal(fs.statSync(path.join(second.stateDir, 'daemon.json')).mode & 0o777, 0o600);
});

test('SIGTERM shuts down cleanly and removes the state file', async () => {
  const d = await daemon();
  const client = await connect(d);
  const closed = new Promise<void>((resolve) => client.socket.once('close', () => resolve()));
  assert.equal(await d.stop(), 0);
  await closed;
  assert.equal(fs.existsSync(path.join(d.stateDir, 'daemon.json')), false);
  assert.equal(fs.existsSync(path.join(d.stateDir, 'daemon.lock')), false);
});

test('the daemon exits by itself after the idle time with no clients', async () => {
  const d = await daemon({ args: ['--idle-timeout', '0.3'] });
  const client = await connect(d);
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(d.process.exitCode, null, 'a connected client keeps it alive');
  client.close();
  assert.equal(await d.exited, 0);
});

test('an OpenAI-endpoint request that outlasts the idle time keeps an editor-less daemon up until it is answered', async () => {
  const fake = await startFake('openai');
  try {
    const catalog = path.join(tempDir('switchyard-idle-catalog-'), 'catalog.json');
    fs.writeFileSync(catalog, JSON.stringify({
      sites: [{
        id: 'fake/local/slow', provider: 'openai-compatible', region: 'local', location: '127.0.0.1', hardware: 'fake',
        endpoint: { kind: 'openai-compatible', baseUrl: fake.baseUrl, idleTimeoutMs: 5000 },
        models: [{ canonical: 'fake-slow', providerModel: 'slow', contextWindow: 100_000, price: { inputPer1M: 1, outputPer1M: 2, readOn: '2026-08-01' }, ttftMs: 50, outputTokensPerSecond: 10 }],
      }],
    }));
    const d = await daemon({ args: ['--idle-timeout', '0.4', '--catalog', catalog] });
    // Twelve pieces 100 ms apart: the answer takes three times the idle time.
    fake.enqueue({ pieces: Array.from({ length: 12 }, (_, i) => ` w${i}`), delayMs: 100 });
    const res = await fetch(`${d.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.state.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-slow', messages: [{ role: 'user', content: 'slowly' }], max_tokens: 50, stream: true }),
    });
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(text, /w11/);
    assert.match(text, /data: \[DONE\]\n\n$/);
    // Answered, it goes idle, and then it stops.
    assert.equal(await d.exited, 0);
  } finally {
    await fake.stop();
  }
});

test('windows of different workspaces keep each other\'s workspace budgets; each replaces the global caps and its own', async () => {
  const d = await daemon();
  const [a, b] = [await connect(d), await connect(d)];
  const cap = (scope: proto.BudgetScope, capUsd: number, workspace?: string): proto.BudgetCap => ({ scope, capUsd, softRatio: 0.8, ...(workspace ? { workspace } : {}) });
  const caps = async () => (await a.rpc.sendRequest(proto.spend, {})).budgets.map((s) => `${s.scope}:${s.workspace ?? ''}:${s.capNanoUsd / 1e9}`).sort();
  await a.rpc.sendRequest(proto.configure, { budgets: [cap('day', 5), cap('workspace', 1, '/ws/a')], workspace: '/ws/a' });
  await b.rpc.sendRequest(proto.configure, { budgets: [cap('day', 6), cap('workspace', 2, '/ws/b')], workspace: '/ws/b' });
  assert.deepEqual(await caps(), ['day::6', 'workspace:/ws/a:1', 'workspace:/ws/b:2']);
  // A window with no folder open, and one whose workspace cap was removed, change only what is theirs.
  await b.rpc.sendRequest(proto.setBudget, { caps: [cap('day', 7)], workspace: null });
  await a.rpc.sendRequest(proto.setBudget, { caps: [cap('day', 7)], workspace: '/ws/a' });
  assert.deepEqual(await caps(), ['day::7', 'workspace:/ws/b:2']);
  // A client that names no window sets every cap, as before.
  await a.rpc.sendRequest(proto.setBudget, { caps: [] });
  assert.deepEqual(await caps(), []);
  await assert.rejects(a.rpc.sendRequest(proto.setBudget, { caps: [], workspace: 7 } as unknown as proto.SetBudgetParams), /params\.workspace must be a workspace key/);
  a.close();
  b.close();
});

test('a client that resets a refused WebSocket upgrade, or sends a cancel without an id, does not bring the daemon down', async () => {
  const d = await daemon();
  const net = await import('node:net');
  for (let i = 0; i < 10; i++) {
    await new Promise<void>((resolve) => {
      const s = net.connect(d.state.port, '127.0.0.1', () => {
        // No token: refused with a 401; the client resets instead of reading it.
        s.write('GET /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
        setTimeout(() => (s.resetAndDestroy(), resolve()), i % 2 ? 0 : 20);
      });
      s.on('error', () => resolve());
    });
  }
  const client = await connect(d);
  for (const params of [undefined, {}, { id: null }]) {
    const answer = (await rawExchange(client.socket, JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', ...(params === undefined ? {} : { params }) }))) as { error: { code: number; message: string } };
    assert.equal(answer.error.code, -32600);
    assert.match(answer.error.message, /\$\/cancelRequest needs params\.id/);
  }
  assert.equal((await client.rpc.sendRequest(proto.status)).clients, 1);
  assert.equal(d.process.exitCode, null, `the daemon exited: ${d.stderr()}`);
  client.close();
});

test('a catalog file whose folder is gone is refused as a catalog error; the daemon starts on the built-in fleet', async () => {
  const gone = path.join(tempDir('switchyard-gone-'), 'renamed', 'catalog.json');
  const d = await daemon({ args: ['--catalog', gone] });
  const client = await connect(d);
  const status = await client.rpc.sendRequest(proto.status);
  assert.match(status.catalog?.error ?? '', /cannot read catalog file: ENOENT/);
  assert.ok((status.catalog?.sites ?? 0) > 0, 'the built-in fleet is in force');
  client.close();
});

test('settings that add a catalog file and a policy pinned to a site in it are taken together; a pin to a site in neither is refused', async () => {
  const d = await daemon();
  const client = await connect(d);
  const file = path.join(d.stateDir, 'mine.json');
  const mine = {
    id: 'mine/local/box', provider: 'openai-compatible', region: 'local', location: 'my desk', hardware: 'rtx-4090',
    endpoint: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' },
    models: [{ canonical: 'llama-3.3-70b', providerModel: 'llama3.3', contextWindow: 8192, price: { inputPer1M: 0, outputPer1M: 0, readOn: '2026-12-07' }, ttftMs: 200, outputTokensPerSecond: 30 }],
  };
  fs.writeFileSync(file, JSON.stringify({ sites: [mine] }));
  await client.rpc.sendRequest(proto.configure, { catalogFile: file, policies: [{ name: 'my-box', kind: 'pinned', site: 'mine/local/box' }], defaultPolicy: 'my-box' });
  assert.equal((await client.rpc.sendRequest(proto.policies, {})).active, 'my-box');
  assert.deepEqual((await client.rpc.sendRequest(proto.status)).catalog?.files, [file]);
  await assert.rejects(
    client.rpc.sendRequest(proto.configure, { policies: [{ name: 'typo', kind: 'pinned', site: 'mine/local/bx' }] }),
    /policy "typo": site .*mine\/local\/bx/,
  );
  assert.deepEqual((await client.rpc.sendRequest(proto.policies, {})).policies.map((p) => p.name).filter((n) => n === 'my-box' || n === 'typo'), ['my-box']);
  client.close();
});

test('a refused configure changes nothing: not with a good policy change beside a bad budget, nor beside a non-string catalogFile', async () => {
  const d = await daemon();
  const { client, heard, file } = await editorWithCatalog(d);
  await client.rpc.sendRequest(proto.configure, { catalogFile: file, budgets: [{ scope: 'day', capUsd: 5, softRatio: 0.8 }] });
  const settingsFile = path.join(d.stateDir, 'settings.json');
  const now = async () => ({
    active: (await client.rpc.sendRequest(proto.policies, {})).active,
    catalog: (await client.rpc.sendRequest(proto.status)).catalog,
    budgets: (await client.rpc.sendRequest(proto.spend, {})).budgets.map((b) => `${b.scope}:${b.capNanoUsd / 1e9}`),
    settings: fs.readFileSync(settingsFile, 'utf8'),
  });
  const before = await now();
  assert.equal(before.active, 'balanced');
  assert.deepEqual(before.catalog?.files, [file]);
  await assert.rejects(
    client.rpc.sendRequest(proto.configure, { defaultPolicy: 'cheapest', budgets: [{ scope: 'month', capUsd: -5, softRatio: 0.8 }] }),
    /params\.budgets\[0\]\.capUsd must be a number from 0 to 9007199 \(USD\)/,
  );
  assert.deepEqual(await now(), before);
  await assert.rejects(
    client.rpc.sendRequest(proto.configure, { defaultPolicy: 'fastest', catalogFile: 5 } as unknown as proto.ConfigureParams),
    /params\.catalogFile must be a string/,
  );
  assert.deepEqual(await now(), before);
  // The catalog file is still watched: a save is still heard.
  heard.length = 0;
  fs.writeFileSync(file, JSON.stringify({ sites: [{ id: 'groq/eu-helsinki/lpu', concurrency: 0 }] }));
  await waitFor(() => heard.find((s) => s.error !== null && s.files.includes(file)), 5000, () => `heard ${JSON.stringify(heard)}`);
  client.close();
});

test('neither the token nor an API-key-shaped secret reaches the log file', async () => {
  const d = await daemon({ args: ['--log-level', 'trace'] });
  const key = 'sk-proj-' + 'Q'.repeat(40);
  await assert.rejects(openSocket(d, { Authorization: `Bearer ${key}` }), { status: 401 });
  const client = await connect(d);
  await client.rpc.sendRequest(proto.status);
  await assert.rejects(client.rpc.sendRequest(`switchyard/${key}`, { apiKey: key }));
  client.close();
  await d.stop();
  const log = fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8');
  assert.ok(log.includes('client connected'), 'the log is written');
  assert.ok(!log.includes(d.state.token), 'token leaked into the log');
  assert.ok(!log.includes(key), 'API key leaked into the log');
});

test('a daemon with AWS credentials in its environment starts, and masks them in its log', async () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const session = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN0123456789';
  // A catalog error quotes the site id, so the log would carry the secret if the redactor did not know it.
  const catalog = path.join(tempDir('switchyard-aws-'), 'catalog.json');
  fs.writeFileSync(catalog, JSON.stringify({ sites: [{ id: secret, concurrency: 0 }, { id: session, concurrency: 0 }] }));
  const d = await daemon({ args: ['--catalog', catalog], env: { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: session } });
  const client = await connect(d);
  const sites = await client.rpc.sendRequest(proto.sites);
  assert.ok(sites.some((s) => s.site.provider === 'bedrock' && s.unavailable === null), 'Bedrock is usable with signed AWS credentials');
  client.close();
  await d.stop();
  const log = fs.readFileSync(path.join(d.stateDir, 'daemon.log'), 'utf8');
  assert.match(log, /catalog not loaded/);
  for (const leaked of [secret, session]) assert.ok(!log.includes(leaked), `${leaked} reached the log`);
});

test('saved budgets the daemon no longer accepts do not stop it: each bad cap is dropped and named in the log', async () => {
  const stateDir = tempDir();
  const good = { scope: 'month', capUsd: 5, softRatio: 0.8 };
  fs.writeFileSync(path.join(stateDir, 'settings.json'), JSON.stringify({ budgets: [{ scope: 'day', capUsd: -1, softRatio: 0.5 }, good] }));
  const d = await daemon({ stateDir });
  const client = await connect(d);
  assert.deepEqual((await client.rpc.sendRequest(proto.spend, {})).budgets.map((b) => `${b.scope}:${b.capNanoUsd / 1e9}`), ['month:5']);
  client.close();
  await d.stop();
  assert.match(fs.readFileSync(path.join(stateDir, 'daemon.log'), 'utf8'), /settings\.json.*caps\[0\]\.capUsd must be a number from 0/);
  // Not an array at all: the daemon starts without caps.
  fs.writeFileSync(path.join(stateDir, 'settings.json'), JSON.stringify({ budgets: null }));
  const again = await daemon({ stateDir });
  const c2 = await connect(again);
  assert.deepEqual((await c2.rpc.sendRequest(proto.spend, {})).budgets, []);
  c2.close();
});

test('every request refuses bad params with InvalidParams naming the field, and changes nothing', async () => {
  const d = await daemon();
  const client = await connect(d);
  await client.rpc.sendRequest(proto.configure, { budgets: [{ scope: 'day', capUsd: 5, softRatio: 0.8 }], defaultPolicy: 'fastest' });
  await client.rpc.sendRequest(proto.setPolicy, { name: 'cheapest', workspace: '/ws/a' });
  await client.rpc.sendRequest(proto.setCredentials, { provider: 'groq', apiKey: 'gsk_' + 'A'.repeat(40) });
  const exports = tempDir('switchyard-export-');
  const out = path.join(exports, 'ledger.json');
  const now = async () => ({
    settings: fs.readFileSync(path.join(d.stateDir, 'settings.json'), 'utf8'),
    global: await client.rpc.sendRequest(proto.policies, {}),
    workspace: await client.rpc.sendRequest(proto.policies, { workspace: '/ws/a' }),
    budgets: (await client.rpc.sendRequest(proto.spend, {})).budgets,
    status: await client.rpc.sendRequest(proto.status),
    keys: (await client.rpc.sendRequest(proto.sites)).filter((s) => s.unavailable === null).map((s) => s.site.id),
    files: [...fs.readdirSync(exports), ...fs.readdirSync(d.stateDir)].sort(),
  });
  const before = await now();
  const cases: [string, unknown, RegExp][] = [
    ['switchyard/configure', 'fastest', /^params must be an object/],
    ['switchyard/configure', { polices: [] }, /^params\.polices is not a field of switchyard\/configure \(known: policies, defaultPolicy, catalogFile, budgets, workspace\)/],
    ['switchyard/configure', { policies: [{ name: 'mine', kind: 'cheapest' }, null] }, /^params\.policies\[1\] must be a policy object/],
    ['switchyard/configure', { defaultPolicy: 7 }, /^params\.defaultPolicy must be a policy name/],
    ['switchyard/configure', { defaultPolicy: 'cheapest', workspace: 7 }, /^params\.workspace must be a workspace key/],
    ['switchyard/setPolicy', { name: 'cheapest', workspace: 5 }, /^params\.workspace must be a workspace key/],
    ['switchyard/setPolicy', { name: 'cheapest', workspace: '' }, /^params\.workspace must be a workspace key/],
    ['switchyard/setPolicy', { name: '' }, /^params\.name must be a policy name/],
    ['switchyard/setPolicy', { name: 'fastest', workspace: '/ws/a', everywhere: 'yes' }, /^params\.everywhere must be true or false/],
    ['switchyard/setPolicy', { name: 'nope' }, /unknown policy "nope"/],
    ['switchyard/policies', { workspace: { a: 1 } }, /^params\.workspace must be a workspace key/],
    ['switchyard/spend', { workspace: 5 }, /^params\.workspace must be a workspace key/],
    ['switchyard/setBudget', { caps: [{ scope: 'day', capUsd: 1e300, softRatio: 0.5 }] }, /^params\.caps\[0\]\.capUsd must be a number from 0 to 9007199/],
    ['switchyard/setBudget', { caps: [{ scope: 'day', capUsd: 1, softRatio: 0.5, capUSD: 2 }] }, /^params\.caps\[0\]\.capUSD is not a field of a budget cap/],
    ['switchyard/setBudget', { caps: [{ scope: 'day', capUsd: -1, softRatio: 0.5 }, { scope: 'month', capUsd: 1, softRatio: 0.5 }] }, /^params\.caps\[0\]\.capUsd must be a number/],
    ['switchyard/setBudget', { caps: [], limit: 1 }, /^params\.limit is not a field of switchyard\/setBudget/],
    ['switchyard/setCredentials', { provider: 'openai', apiKey: 'sk-abcdef ghijklmnop' }, /^params\.apiKey must be one key, without spaces or control characters/],
    ['switchyard/setCredentials', { provider: 'groq', apiKey: '          ' }, /^params\.apiKey must be a key of at least 8 characters/],
    ['switchyard/setTeam', { redisUrl: 'redis://127.0.0.1:1' }, /^params\.redisUrl is not a field of switchyard\/setTeam \(known: telemetryUrl, ledgerUrl\)/],
    ['switchyard/setTeam', { telemetryUrl: 'http://127.0.0.1:1' }, /telemetryUrl must be a redis:\/\/ or rediss:\/\/ URL/],
    ['switchyard/setTeamBudget', { scope: 'day', capUsd: 1, cap: 2 }, /^params\.cap is not a field/],
    ['switchyard/cancel', { requestId: 'r', now: true }, /^params\.now is not a field/],
    ['switchyard/exportLedger', { path: path.join(exports, 'gone', 'ledger.json'), format: 'json' }, /^params\.path: the folder .*gone does not exist/],
    ['switchyard/exportLedger', { path: exports, format: 'json' }, /^params\.path is a folder: name a file in it/],
    ['switchyard/exportLedger', { path: out, format: 'json', from: '2026-02-31' }, /^params\.from must be a date YYYY-MM-DD/],
    ['switchyard/exportLedger', { path: out, format: 'json', from: '2026-03-01', to: '2026-02-01' }, /^params\.from is after to/],
    ['switchyard/exportLedger', { path: out, format: 'json', form: '2026-01-01' }, /^params\.form is not a field/],
  ];
  for (const [method, params, expected] of cases) {
    await assert.rejects(client.rpc.sendRequest(method, params), (error: { code: number; message: string }) => {
      assert.equal(error.code, -32602, `${method} ${JSON.stringify(params)}: ${error.message}`);
      assert.match(error.message, expected, `${method} ${JSON.stringify(params)}`);
      return true;
    });
  }
  const after = await now();
  assert.deepEqual({ ...after, status: { ...after.status, uptimeMs: 0 } }, { ...before, status: { ...before.status, uptimeMs: 0 } });
  client.close();
});

test('a request id already in progress is refused, and the request using it first is still answered', async () => {
  const d = await daemon();
  const socket = await openSocket(d);
  const answers: { id: unknown; result?: unknown; error?: { code: number; message: string } }[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { id?: unknown; method?: string };
    if (message.method === undefined) answers.push(message as never);
  });
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'switchyard/spend', params: {} }));
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'switchyard/status' }));
  // Other bad shapes the library would drop without a word.
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: { a: 1 }, method: 'switchyard/status' }));
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 5 }));
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: 9 }));
  await waitFor(() => (answers.length >= 5 ? true : undefined), 5000, () => `answers: ${JSON.stringify(answers)}`);
  const spend = answers.find((a) => a.id === 7 && a.result !== undefined) as { result: proto.SpendSummary } | undefined;
  assert.ok(spend && 'todayNanoUsd' in spend.result, `the first request with id 7 was answered: ${JSON.stringify(answers)}`);
  const refused = answers.filter((a) => a.error);
  assert.deepEqual(refused.map((a) => a.error!.code), [-32600, -32600, -32600, -32600]);
  assert.match(refused[0].error!.message, /id 7 is already in use by a request in progress/);
  assert.match(refused[1].error!.message, /id must be a string or a number/);
  assert.match(refused[2].error!.message, /method must be a string/);
  assert.match(refused[3].error!.message, /method must be a string/);
  // The id is free again once answered.
  const again = (await rawExchange(socket, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'switchyard/status' }))) as { result: proto.StatusResult };
  assert.equal(again.result.pid, d.state.pid);
  socket.close();
});

test('a client that stops reading is cut off once its unread answers pile up; the others are still served', async () => {
  const d = await daemon();
  const bystander = await connect(d);
  const socket = await openSocket(d);
  // Reading nothing more, as a hung window would: the daemon's answers back up on its side.
  (socket as unknown as { _socket: import('node:net').Socket })._socket.pause();
  const request = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'switchyard/sites' });
  // Each answer is ~33 KB: 4000 of them are far past what the daemon holds for one client.
  for (let i = 0; i < 4000; i++) socket.send(request.replace('"id":0', `"id":${i}`));
  await waitFor(async () => ((await bystander.rpc.sendRequest(proto.status)).clients === 1 ? true : undefined), 30_000, () => 'the stalled client is still connected');
  assert.equal(d.process.exitCode, null);
  assert.ok((await bystander.rpc.sendRequest(proto.sites)).length > 0);
  socket.terminate();
  bystander.close();
});

test('a known route asked with another method answers 405 with Allow; an unknown route 404', async () => {
  const d = await daemon();
  const ask = async (method: string, route: string) => {
    const res = await fetch(`${d.url}${route}`, { method, headers: { authorization: `Bearer ${d.state.token}` } });
    const body = (await res.json()) as { error: { message: string; code: string } };
    return { status: res.status, allow: res.headers.get('allow'), code: body.error.code, message: body.error.message };
  };
  assert.deepEqual(await ask('POST', '/metrics'), { status: 405, allow: 'GET, HEAD', code: 'method_not_allowed', message: 'POST /metrics is not served; use GET, HEAD' });
  assert.equal((await ask('GET', '/v1/chat/completions')).allow, 'POST');
  assert.equal((await ask('DELETE', '/v1/models')).status, 405);
  assert.equal((await ask('PUT', '/v1/models/llama-3.1-8b')).allow, 'GET, HEAD');
  assert.deepEqual(await ask('POST', '/nowhere'), { status: 404, allow: null, code: 'unknown_url', message: 'no route POST /nowhere' });
  // The token check still comes first.
  assert.equal((await fetch(`${d.url}/metrics`, { method: 'POST' })).status, 401);
});

test('a request Express cannot route (a malformed %-escape) is answered 400 in the OpenAI error shape, with no stack trace', async () => {
  const d = await daemon();
  for (const [method, route] of [['GET', '/v1/models/%E0%A4%A'], ['DELETE', '/v1/switchyard/placements/%ZZ']]) {
    const res = await fetch(`${d.url}${route}`, { method, headers: { authorization: `Bearer ${d.state.token}` } });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.code, 'bad_request');
    assert.match(body.error.message, /^Failed to decode param '%/);
    assert.doesNotMatch(JSON.stringify(body), /\bat \S+ \(/, 'a stack trace');
  }
});

test('an error message never carries a secret, even one the client put where it did not belong', async () => {
  const d = await daemon();
  const client = await connect(d);
  const key = 'gsk_' + 'K'.repeat(40);
  await client.rpc.sendRequest(proto.setCredentials, { provider: 'groq', apiKey: key });
  // A key pasted into the policy box, and one in a path: both come back in the refusal, masked.
  const pasted = 'sk-proj-' + 'P'.repeat(40);
  for (const [method, params] of [['switchyard/setPolicy', { name: pasted }], ['switchyard/exportLedger', { path: `/nowhere-${key}/ledger.json`, format: 'json' }]] as const) {
    await assert.rejects(client.rpc.sendRequest(method, params), (error: Error) => {
      assert.match(error.message, /\[redacted\]/);
      for (const secret of [pasted, key]) assert.ok(!error.message.includes(secret), error.message);
      return true;
    });
  }
  client.close();
});
