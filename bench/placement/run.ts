// Placement benchmark: replays the Azure traces against the default simulated fleet in virtual time, at
// 1x, 2x and 4x the recorded arrival rate, for each engine policy, the baselines and the hindsight oracle.
//
//   node --import tsx bench/placement/run.ts [--conv PATH] [--code PATH] [--loads 1,2,4] [--minutes M] [--seed S]
//     [--strategies interactive,litellm-latency,...] [--blind 0.9,0.95]
//
// --minutes M replays only the first M minutes of each trace (same arrival pattern and rate, fewer
// requests) for a quicker run. --blind lists the confidences of the draw-blind oracle rows (default:
// interactive's own).

import { join } from 'node:path';
import { buildCatalog } from '../../daemon/catalog/merge';
import type { Site } from '../../daemon/catalog/types';
import { PolicyBook } from '../../daemon/engine/policyBook';
import { header, quantile, table } from '../machine';
import { drawBlindOracle, lowerBoundNanoUsd, oracle } from './oracle';
import { MODEL, replay, SLO_TTFT_MS, type Outcome } from './replay';
import { enginePolicy, leastBusy, litellmCost, litellmLatency, random, roundRobin, type StrategyFactory } from './strategies';
import { loadTrace, type TraceRequest } from './trace';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const DATA = join(__dirname, '../../../shared/data');
const traces = {
  conv: arg('conv', join(DATA, 'azure-llm-inference-2023-conv.csv')),
  code: arg('code', join(DATA, 'azure-llm-inference-2023-code.csv')),
};
/** A bad option ends the run before anything is printed, saying which: no table from figures it misread. */
function refuse(message: string): never {
  console.error(`bench/placement/run.ts: ${message}`);
  process.exit(2);
}

/** `--name`'s comma-separated numbers, each passing `ok` (described by `what`). */
function numbers(name: string, fallback: string, ok: (n: number) => boolean, what: string): number[] {
  const text = arg(name, fallback);
  return text.split(',').map((part) => {
    const n = part.trim() === '' ? NaN : Number(part);
    return ok(n) ? n : refuse(`--${name} ${text}: "${part}" is not ${what}`);
  });
}

const loads = numbers('loads', '1,2,4', (n) => Number.isFinite(n) && n > 0, 'a positive load factor');
const [minutes] = numbers('minutes', '60', (n) => Number.isFinite(n) && n > 0, 'a positive number of minutes');
const [seed] = numbers('seed', '20231116', (n) => Number.isSafeInteger(n) && n >= 0, 'a whole number from 0');

const policies = new PolicyBook();
const engine = (name: string) => {
  const policy = policies.get(name);
  return enginePolicy(policy, policies.fallbackOf(policy));
};
/** The draw-blind reference judges TTFT at interactive's own confidence, so it shows what that rule could reach. */
const blindConfidences = numbers('blind', String(policies.get('interactive').constraints!.ttftConfidence), (n) => n > 0 && n < 1, 'a confidence between 0 and 1');
const allStrategies: [string, StrategyFactory][] = [
  ['cheapest', engine('cheapest')],
  ['fastest', engine('fastest')],
  ['balanced', engine('balanced')],
  ['interactive', engine('interactive')],
  ['round-robin', roundRobin],
  ['random', random],
  ['least-busy', leastBusy],
  ['litellm-latency', litellmLatency],
  ['litellm-cost', litellmCost],
];
const only = arg('strategies', '');
for (const name of only ? only.split(',') : []) {
  if (!allStrategies.some(([known]) => known === name)) refuse(`--strategies ${only}: no strategy "${name}" (${allStrategies.map(([known]) => known).join(', ')})`);
}
const strategies = only ? allStrategies.filter(([name]) => only.split(',').includes(name)) : allStrategies;

const fleet: Site[] = buildCatalog().sites.filter((s) => s.simulated && !s.disabled && s.models.some((m) => m.canonical === MODEL));
const short = (id: string) => id.replace(/^sim:/, '').split('/').slice(0, 2).join('/');
const secs = (ms: number) => (ms / 1000).toFixed(2);

const meets = (o: Outcome) => o.ok && o.ttftMs !== null && o.ttftMs <= SLO_TTFT_MS;

/** `oracleMet[i]`: the oracle got request i its first token within the SLO (some requests cannot be, anywhere). */
function row(name: string, outcomes: Outcome[], oracleCost: number | null, oracleMet: boolean[]): (string | number)[] {
  const cost = outcomes.reduce((s, o) => s + o.costNanoUsd, 0);
  const ttft = outcomes.map((o) => o.ttftMs ?? Infinity).sort((a, b) => a - b);
  const e2e = outcomes.map((o) => (o.ok ? o.totalMs : Infinity)).sort((a, b) => a - b);
  const met = outcomes.filter(meets).length;
  const servable = oracleMet.filter(Boolean).length;
  const metOfServable = outcomes.filter((o, i) => oracleMet[i] && meets(o)).length;
  const share = new Map<string, number>();
  for (const o of outcomes) share.set(o.siteId, (share.get(o.siteId) ?? 0) + 1);
  const shares = fleet.map((s) => share.get(s.id) ?? 0).map((n) => String(Math.round((100 * n) / outcomes.length)).padStart(3)).join(' ');
  const fmt = (v: number) => (Number.isFinite(v) ? secs(v) : 'fail');
  return [
    name,
    (cost / 1e9).toFixed(4),
    oracleCost ? (cost / oracleCost).toFixed(3) : '',
    `${fmt(quantile(ttft, 0.5))} / ${fmt(quantile(ttft, 0.95))} / ${fmt(quantile(ttft, 0.99))}`,
    `${fmt(quantile(e2e, 0.5))} / ${fmt(quantile(e2e, 0.95))} / ${fmt(quantile(e2e, 0.99))}`,
    ((100 * met) / outcomes.length).toFixed(2),
    ((100 * metOfServable) / servable).toFixed(2),
    shares,
  ];
}

async function main() {
  console.log(header('Placement replay: Azure LLM inference traces against the simulated default fleet'));
  console.log(`model: ${MODEL}; SLO: time to first token <= ${SLO_TTFT_MS} ms; seed ${seed}; virtual time`);
  console.log(`fleet (servers): ${fleet.map((s) => `${short(s.id)} (${s.simulation!.servers})`).join(', ')}`);
  console.log(minutes < 60 ? `sub-sampled: first ${minutes} minutes of each trace` : 'full traces (one hour each), no sub-sampling');
  console.log('share % per site, in fleet order above; TTFT and end-to-end in seconds (p50 / p95 / p99); errors count as SLO misses;');
  console.log('"SLO % servable": of the requests the oracle got within the SLO, the share this strategy did too;');
  console.log('"oracle blind to draws (c)": the same greedy, judging each site\'s TTFT at confidence c instead of seeing the request\'s jitter draw\n');
  const started = Date.now();
  for (const [name, path] of Object.entries(traces)) {
    const full = loadTrace(path);
    const trace: TraceRequest[] = full.filter((r) => r.at < minutes * 60_000);
    for (const load of loads) {
      const oracleOut = oracle(trace, load, fleet, seed);
      const oracleCost = oracleOut.reduce((s, o) => s + o.costNanoUsd, 0);
      const oracleMet = oracleOut.map(meets);
      const rows: (string | number)[][] = [['strategy', 'cost USD', 'x oracle', 'TTFT p50/p95/p99', 'E2E p50/p95/p99', 'SLO %', 'SLO % servable', 'share %']];
      for (const [label, factory] of strategies) rows.push(row(label, await replay(trace, load, fleet, factory, seed), oracleCost, oracleMet));
      rows.push(row('oracle (hindsight greedy)', oracleOut, oracleCost, oracleMet));
      for (const c of blindConfidences) rows.push(row(`oracle blind to draws (${c * 100}%)`, drawBlindOracle(trace, load, fleet, seed, c), oracleCost, oracleMet));
      rows.push(['lower bound (no capacity)', (lowerBoundNanoUsd(trace, fleet, seed) / 1e9).toFixed(4), '', '', '', '', '', '']);
      console.log(`## ${name} trace (${trace.length} requests, ${(trace.length / (trace[trace.length - 1].at / 1000 / load)).toFixed(2)} req/s), ${load}x load\n`);
      console.log(table(rows));
      console.log('');
    }
  }
  console.log(`wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

void main();
