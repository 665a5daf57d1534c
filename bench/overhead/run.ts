// Overhead benchmark: what a gateway adds to an LLM request when the upstream costs nothing.
// One run, side by side, against one fake OpenAI upstream on 127.0.0.1 (bench/overhead/upstream.ts):
//   direct      the fake itself
//   bare        the floor: a minimal node:http forwarder (bench/overhead/bare-proxy.cjs) that parses and
//               forwards, in its own process; what any Node gateway pays for the hop on this machine
//   switchyard  the bundled daemon (dist/daemon.js), the fake as the one site of a catalog file
//               (endpoint kind openai-compatible), through POST /v1/chat/completions: placement,
//               budget reservation, the OpenAI adapter, billing and a durable (fdatasync'd) receipt
//   switchyard-ram  the same daemon with its state directory in RAM (/dev/shm, tmpfs), where fdatasync
//               returns at once: the difference from switchyard is what a durable receipt costs on
//               this machine's disk (left out, with the reason, where /dev/shm is missing or small)
//   portkey     the Portkey AI gateway (@portkey-ai/gateway 1.15.2, its own start-server.js) with
//               x-portkey-provider: openai and x-portkey-custom-host pointing at the same fake; preloaded
//               with mutable-fetch-headers.cjs, without which it cannot stream to a custom host at all
// For JSON and SSE answers: added latency p50/p99 over sequential requests (target minus direct), and
// requests/s at a fixed concurrency; RSS of each gateway process; and each gateway's CPU per request over the
// sequential run (all its threads, from /proc), which a busy machine disturbs much less than latency.
// Run: npm run build && node --import tsx bench/overhead/run.ts [sequential=2000] [seconds=5] [concurrency=32]
// PROFILE=/tmp/prof in the environment also writes the daemon's CPU profile there; MODES=json (or sse)
// measures one mode only, so the profile is of that mode.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { header, quantile, table } from '../machine';
import { ANSWER, startUpstream, type FakeUpstream } from './upstream';

const SEQUENTIAL = Number(process.argv[2] ?? 2000);
const SECONDS = Number(process.argv[3] ?? 5);
const CONCURRENCY = Number(process.argv[4] ?? 32);
const WARM_SECONDS = 1;
const ROOT = path.resolve(__dirname, '../..');
const DAEMON = path.join(ROOT, 'dist/daemon.js');
const PORTKEY = path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js');
const BARE = path.join(__dirname, 'bare-proxy.cjs');
/** tmpfs on Linux: a file there is as durable as it gets the moment it is written, so fdatasync costs nothing. */
const RAM_DIR = '/dev/shm';
/** The receipts of a full run (about 1 KB each, tens of thousands per mode) must fit: a container's /dev/shm is often 64 MB. */
const RAM_NEEDED_BYTES = 512 * 1024 * 1024;

/** Why the RAM row cannot be measured here, or null when it can. */
function ramUnavailable(): string | null {
  if (!fs.existsSync(RAM_DIR)) return `no ${RAM_DIR} on this machine`;
  const { bavail, bsize } = fs.statfsSync(RAM_DIR);
  const free = bavail * bsize;
  return free < RAM_NEEDED_BYTES ? `${RAM_DIR} has ${(free / 1024 / 1024).toFixed(0)} MB free, the run needs ${RAM_NEEDED_BYTES / 1024 / 1024} MB` : null;
}

type Mode = 'json' | 'sse';

interface Target {
  name: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  model: string;
  pid?: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function body(target: Target, mode: Mode): string {
  return JSON.stringify({
    model: target.model,
    messages: [{ role: 'user', content: 'Say the sentence about the fox.' }],
    max_tokens: 64,
    ...(mode === 'sse' ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

/**
 * One request over a kept-alive connection; resolves with the whole response body. A server may close an
 * idle kept-alive socket just as it is reused (Portkey's closes after 5 s, the gap between phases): Node's
 * documented remedy is to send again once on a fresh socket.
 */
function request(target: Target, payload: string, retried = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: target.port, path: target.path, method: 'POST', agent, headers: { ...target.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => (text += s));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${target.name}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`))));
        res.on('error', reject);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (req.reusedSocket && error.code === 'ECONNRESET' && !retried) resolve(request(target, payload, true));
      else reject(new Error(`${target.name}: ${error.message}`));
    });
    req.end(payload);
  });
}

/** The answer must really have come through: the whole text, and the stream's end. */
function check(target: Target, mode: Mode, text: string): void {
  if (mode === 'json') {
    const content = (JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0].message.content;
    if (content !== ANSWER) throw new Error(`${target.name} json: unexpected answer ${JSON.stringify(content)}`);
  } else {
    const pieces = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices: { delta?: { content?: string } }[] });
    const content = pieces.map((p) => p.choices[0]?.delta?.content ?? '').join('');
    if (content !== ANSWER || !text.trimEnd().endsWith('data: [DONE]')) throw new Error(`${target.name} sse: unexpected stream ${text.slice(0, 300)}`);
  }
}

/** CPU time a process has used, all threads, user and system, in ms (clock ticks, 10 ms each on Linux). */
function cpuMs(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 12 and 13.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** Times of each request per target, and each gateway process's CPU per request over the same run. */
async function sequential(targets: Target[], mode: Mode, count: number): Promise<{ times: Map<string, number[]>; cpu: Map<string, number> }> {
  const times = new Map(targets.map((t) => [t.name, [] as number[]]));
  const cpuBefore = new Map(targets.filter((t) => t.pid).map((t) => [t.name, cpuMs(t.pid!)]));
  const payloads = new Map(targets.map((t) => [t.name, body(t, mode)]));
  // Rounds interleave the targets so that drift on a shared machine lands on all of them alike.
  const rounds = 20;
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      const payload = payloads.get(t.name)!;
      const list = times.get(t.name)!;
      for (let i = 0; i < count / rounds; i++) {
        const start = process.hrtime.bigint();
        const text = await request(t, payload);
        list.push(Number(process.hrtime.bigint() - start) / 1e6);
        if (i === 0) check(t, mode, text);
      }
    }
  }
  for (const list of times.values()) list.sort((a, b) => a - b);
  const cpu = new Map(targets.filter((t) => t.pid).map((t) => [t.name, (cpuMs(t.pid!) - cpuBefore.get(t.name)!) / count]));
  return { times, cpu };
}

async function throughput(target: Target, mode: Mode, seconds: number, concurrency: number): Promise<number> {
  const payload = body(target, mode);
  let done = 0;
  let stop = false;
  // A failed request stops the run (and is thrown below), rather than rejecting a worker nobody awaits
  // yet: that crashed the bench on an unhandled rejection and left the gateways running.
  let failure: unknown = null;
  const worker = async () => {
    while (!stop) {
      try {
        const text = await request(target, payload);
        if (done % 500 === 0) check(target, mode, text);
      } catch (error) {
        failure ??= error;
        stop = true;
        return;
      }
      done++;
    }
  };
  // Warm up, then count.
  const warm = setTimeout(() => (done = 0), 1000);
  const startedAt = { t: 0 };
  setTimeout(() => (startedAt.t = performance.now()), 1000);
  const end = new Promise<void>((resolve) => setTimeout(() => ((stop = true), resolve()), 1000 + seconds * 1000));
  const workers = Array.from({ length: concurrency }, worker);
  await end;
  const counted = done;
  const elapsed = (performance.now() - startedAt.t) / 1000;
  await Promise.all(workers);
  clearTimeout(warm);
  if (failure) throw failure;
  return counted / elapsed;
}

function rss(pid: number | undefined): { rss: string; peak: string } {
  if (!pid) return { rss: '-', peak: '-' };
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: `${(kb('VmRSS') / 1024).toFixed(0)} MB`, peak: `${(kb('VmHWM') / 1024).toFixed(0)} MB` };
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 20_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const on = (b: Buffer) => {
      out += b.toString();
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${out}`)));
  });
}

async function startSwitchyard(upstream: FakeUpstream, name: string, stateRoot: string): Promise<{ target: Target; child: ChildProcess; stateDir: string }> {
  if (!fs.existsSync(DAEMON)) throw new Error(`${DAEMON} is missing: run npm run build first`);
  const stateDir = fs.mkdtempSync(path.join(stateRoot, 'switchyard-overhead-'));
  const catalog = path.join(stateDir, 'catalog.json');
  fs.writeFileSync(catalog, JSON.stringify({
    sites: [{
      id: 'bench/local/fake', provider: 'openai-compatible', region: 'local', location: '127.0.0.1 (fake upstream)', hardware: 'none',
      endpoint: { kind: 'openai-compatible', baseUrl: upstream.baseUrl },
      models: [{ canonical: 'bench-model', providerModel: 'fake-model', contextWindow: 100_000, price: { inputPer1M: 1, outputPer1M: 2, readOn: '2026-08-01' }, ttftMs: 1, outputTokensPerSecond: 1000 }],
    }],
  }));
  // PROFILE=dir writes the daemon's CPU profile there (node --cpu-prof), to see where its time goes.
  const profile = process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, DAEMON, '--port', '0', '--state-dir', stateDir, '--catalog', catalog, '--idle-timeout', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (b: Buffer) => (daemonLog = (daemonLog + b.toString()).slice(-4000)));
  child.stderr?.on('data', (b: Buffer) => (daemonLog = (daemonLog + b.toString()).slice(-4000)));
  const stateFile = path.join(stateDir, 'daemon.json');
  const deadline = Date.now() + 20_000;
  while (!fs.existsSync(stateFile)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('switchyard daemon did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { port: number; token: string };
  return { target: { name, port: state.port, path: '/v1/chat/completions', headers: { authorization: `Bearer ${state.token}` }, model: 'bench-model', pid: child.pid }, child, stateDir };
}

async function startBare(upstream: FakeUpstream): Promise<{ target: Target; child: ChildProcess }> {
  const child = spawn(process.execPath, [BARE, String(upstream.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const [, port] = await waitForLine(child, /listening (\d+)/, 'bare proxy');
  return { target: { name: 'bare', port: Number(port), path: '/v1/chat/completions', headers: { authorization: 'Bearer sk-bench-not-a-key' }, model: 'bench-model', pid: child.pid }, child };
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startPortkey(upstream: FakeUpstream): Promise<{ target: Target; child: ChildProcess }> {
  if (!fs.existsSync(PORTKEY)) throw new Error(`${PORTKEY} is missing: npm ci installs @portkey-ai/gateway (a devDependency)`);
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', path.join(__dirname, 'loopback-only.cjs'), '--require', path.join(__dirname, 'mutable-fetch-headers.cjs'), PORTKEY, `--port=${port}`, '--headless'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  child.stdout?.on('data', (b: Buffer) => (portkeyLog = (portkeyLog + b.toString()).slice(-4000)));
  child.stderr?.on('data', (b: Buffer) => (portkeyLog = (portkeyLog + b.toString()).slice(-4000)));
  await waitForLine(child, /Ready for connections/i, 'portkey gateway');
  return {
    target: {
      name: 'portkey',
      port,
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-bench-not-a-key', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream.baseUrl },
      model: 'fake-model',
      pid: child.pid,
    },
    child,
  };
}

const ms = (x: number) => x.toFixed(3);
/** The tails of each gateway's output, shown when the bench fails. */
let portkeyLog = '';
let daemonLog = '';

void (async () => {
  const upstream = await startUpstream();
  const direct: Target = { name: 'direct', port: upstream.port, path: '/v1/chat/completions', headers: { authorization: 'Bearer sk-bench-not-a-key' }, model: 'fake-model' };
  const bare = await startBare(upstream);
  const sy = await startSwitchyard(upstream, 'switchyard', os.tmpdir());
  const ramMissing = ramUnavailable();
  const ram = ramMissing ? null : await startSwitchyard(upstream, 'switchyard-ram', RAM_DIR);
  let portkey: Awaited<ReturnType<typeof startPortkey>> | null = null;
  let portkeyError: string | null = null;
  try {
    portkey = await startPortkey(upstream);
  } catch (error) {
    portkeyError = (error as Error).message;
  }
  const all = [direct, bare.target, sy.target, ...(ram ? [ram.target] : []), ...(portkey ? [portkey.target] : [])];
  try {
    console.log(header('Overhead: direct vs a bare Node proxy vs Switchyard vs Portkey AI gateway, one fake OpenAI upstream on 127.0.0.1'));
    console.log(`sequential requests per target and mode: ${SEQUENTIAL} (after ${1 + WARM_SECONDS} s of load at concurrency ${CONCURRENCY} and 200 sequential, to warm up); throughput: ${SECONDS} s at concurrency ${CONCURRENCY} (after 1 s warm-up)`);
    if (portkeyError) console.log(`portkey: not measured: ${portkeyError}`);
    if (ramMissing) console.log(`switchyard-ram: not measured: ${ramMissing}`);
    const seqRows: (string | number)[][] = [['mode', 'target', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'over bare p50 ms', 'CPU ms/req']];
    const tputRows: (string | number)[][] = [['mode', 'target', `req/s @${CONCURRENCY}`, 'vs portkey']];
    const failures: string[] = [];
    for (const mode of (process.env.MODES ?? 'json,sse').split(',') as Mode[]) {
      // A target that cannot answer this mode at all is reported and left out of it.
      const able: Target[] = [];
      for (const t of all) {
        try {
          check(t, mode, await request(t, body(t, mode)));
          able.push(t);
        } catch (error) {
          failures.push(`${t.name} ${mode}: not measured: ${(error as Error).message.split('\n')[0]}`);
          seqRows.push([mode, t.name, 'failed', '-', '-', '-', '-', '-']);
          tputRows.push([mode, t.name, 'failed', '-']);
        }
      }
      const targets = able;
      // A daemon in use has run thousands of requests: its hot paths are optimised. 200 sequential
      // requests leave much of it in the baseline compiler (the first mode measured read ~0.5 ms slower
      // than the second for that alone), so each target first takes a second of concurrent load.
      for (const t of targets) await throughput(t, mode, WARM_SECONDS, CONCURRENCY);
      await sequential(targets, mode, 200);
      const { times, cpu } = await sequential(targets, mode, SEQUENTIAL);
      const base = times.get('direct')!;
      const floor = times.get('bare');
      for (const t of targets) {
        const list = times.get(t.name)!;
        const p50 = quantile(list, 0.5);
        const p99 = quantile(list, 0.99);
        const gateway = t.name !== 'direct' && t.name !== 'bare';
        seqRows.push([mode, t.name, ms(p50), ms(p99), t.name === 'direct' ? '-' : ms(p50 - quantile(base, 0.5)), t.name === 'direct' ? '-' : ms(p99 - quantile(base, 0.99)), gateway && floor ? ms(p50 - quantile(floor, 0.5)) : '-', cpu.has(t.name) ? ms(cpu.get(t.name)!) : '-']);
      }
      const rates = new Map<string, number>();
      for (const t of targets) rates.set(t.name, await throughput(t, mode, SECONDS, CONCURRENCY));
      for (const t of targets) {
        const rate = rates.get(t.name)!;
        const peer = rates.get('portkey');
        tputRows.push([mode, t.name, Math.round(rate), peer && t.name.startsWith('switchyard') ? `${(rate / peer).toFixed(2)}x` : '-']);
      }
    }
    console.log('\n## Added latency, sequential requests (one connection, kept alive)\n');
    console.log(table(seqRows));
    console.log('\n## Throughput\n');
    console.log(table(tputRows));
    console.log('\n## Memory (gateway process, after the runs)\n');
    const memRows: (string | number)[][] = [['target', 'RSS', 'peak RSS']];
    for (const t of all.slice(1)) {
      const m = rss(t.pid);
      memRows.push([t.name, m.rss, m.peak]);
    }
    console.log(table(memRows));
    for (const f of failures) console.log(f);
    if (failures.length && portkeyLog.includes('immutable')) console.log('portkey output:', portkeyLog.slice(portkeyLog.indexOf('tryTargetsRecursively')).split('\n').slice(0, 3).join(' | '));
    console.log(`\nupstream requests served: ${upstream.requests}`);
  } finally {
    sy.child.kill('SIGTERM');
    ram?.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    portkey?.child.kill('SIGTERM');
    agent.destroy();
    await upstream.close();
    await new Promise((r) => setTimeout(r, 300));
    fs.rmSync(sy.stateDir, { recursive: true, force: true });
    if (ram) fs.rmSync(ram.stateDir, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(error);
  if (daemonLog) console.error(`switchyard output (tail):\n${daemonLog}`);
  if (portkeyLog) console.error(`portkey output (tail):\n${portkeyLog}`);
  process.exitCode = 1;
});
