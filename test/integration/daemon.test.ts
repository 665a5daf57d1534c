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
    /caps\[0\]\.capUsd must be a number >= 0/,
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
