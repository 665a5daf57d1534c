// Startup benchmark: how long the bundled daemon takes from spawn to ready (daemon.json written, which
// is what the extension waits for), its RSS then, and how long a first chat request takes when it comes
// at once and when it comes after the daemon has settled (the tokenizer is built a second after ready).
// Run: npm run build && node --import tsx bench/startup/run.ts [runs=7]

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { header, quantile, table } from '../machine';

const RUNS = Number(process.argv[2] ?? 7);
const DAEMON = path.resolve(__dirname, '../../dist/daemon.js');

interface Run {
  readyMs: number;
  rssMb: number;
  firstChatMs: number;
}

/** One JSON-RPC chat over /rpc (a text frame per message), timed from send to its answer: placed and reserved. */
function firstChat(port: number, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc`, { headers: { authorization: `Bearer ${token}` } });
    ws.on('error', reject);
    ws.on('open', () => {
      const started = performance.now();
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'switchyard/chat', params: { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'Say hello.' }], maxTokens: 16 } });
      ws.send(body);
      ws.on('message', (data) => {
        if (!String(data).includes('"id":1')) return;
        resolve(performance.now() - started);
        ws.close();
      });
    });
  });
}

async function once(settleMs: number): Promise<Run> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-startup-'));
  const started = performance.now();
  const child = spawn(process.execPath, [DAEMON, '--port', '0', '--state-dir', stateDir, '--idle-timeout', '0'], { stdio: 'ignore' });
  const stateFile = path.join(stateDir, 'daemon.json');
  try {
    while (!fs.existsSync(stateFile)) {
      if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const readyMs = performance.now() - started;
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { port: number; token: string };
    await new Promise((r) => setTimeout(r, settleMs));
    return { readyMs, rssMb, firstChatMs: await firstChat(state.port, state.token) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

void (async () => {
  if (!fs.existsSync(DAEMON)) throw new Error(`${DAEMON} is missing: run npm run build first`);
  console.log(header('Daemon startup: spawn to ready, RSS, and the first chat request'));
  console.log(`${RUNS} runs each; the bundle is ${(fs.statSync(DAEMON).size / 1024 / 1024).toFixed(1)} MB\n`);
  const rows: (string | number)[][] = [['first chat', 'ready p50 ms', 'ready max ms', 'RSS at ready MB', 'first chat p50 ms', 'first chat max ms']];
  for (const [label, settleMs] of [['at once', 0], ['after 2 s', 2000]] as const) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await once(settleMs));
    const sorted = (f: (r: Run) => number) => runs.map(f).sort((a, b) => a - b);
    const ready = sorted((r) => r.readyMs);
    const chat = sorted((r) => r.firstChatMs);
    rows.push([label, Math.round(quantile(ready, 0.5)), Math.round(ready[ready.length - 1]), Math.round(quantile(sorted((r) => r.rssMb), 0.5)), Math.round(quantile(chat, 0.5)), Math.round(chat[chat.length - 1])]);
  }
  console.log(table(rows));
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
