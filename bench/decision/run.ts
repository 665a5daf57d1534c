// Decision benchmark: microseconds per placement at 10, 100, 1000 and 10000 synthetic sites that all
// offer the model (the worst case: placement reads one site per offer), with live telemetry on each.
//
//   node --import tsx bench/decision/run.ts [--sites 100] [--seconds 1] [--policies balanced,interactive]
//
// Steady state: each row warms up first (JIT, inline caches, heap sizing), then takes one sample per
// decision for --seconds, sorts the samples and reports p50 / p99 / max. Three loops per row, each on its
// own so one's garbage does not land in another's samples:
// - decide: `place()` returning the Placement, the pure function the daemon's Router calls;
// - router: `Router.place()` (place + counting the chosen site in flight), settled at once with a
//   neutral outcome so telemetry stays as it was; the settle is not timed;
// - explained: place() and then reading `placement.candidates`, which builds every candidate's
//   breakdown and words (what a caller pays when it shows or serialises the placement).
// `gc/1k` counts garbage collections (scavenges and mark-sweeps) per thousand decisions while sampling.
// Last, a control: fixed arithmetic that allocates nothing, sized to the median decision at 100 sites
// (or the first size given) and sampled the same way. Its p99 is the machine's own tail at that
// duration (timer interrupts, a shared or virtual CPU), which no change to placement can remove.

import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { indexCatalog } from '../../daemon/catalog/lookup';
import type { Site } from '../../daemon/catalog/types';
import { place, type PlaceInput } from '../../daemon/engine/placement';
import { builtinPolicies } from '../../daemon/engine/policies';
import { Router } from '../../daemon/engine/router';
import { Telemetry } from '../../daemon/engine/telemetry';
import type { Policy } from '../../daemon/protocol';
import type { Clock } from '../../daemon/providers/simulated/clock';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import type { SiteResult } from '../../daemon/providers/types';
import { header, quantile, table } from '../machine';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** A bad option ends the run before anything is measured, saying which: no table from figures it misread. */
function refuse(message: string): never {
  console.error(`bench/decision/run.ts: ${message}`);
  process.exit(2);
}
const list = (name: string, fallback: string) => {
  const text = arg(name) ?? fallback;
  return text.split(',').map((part) => ({ text, part, n: part.trim() === '' ? NaN : Number(part) }));
};
const sizes = list('--sites', '10,100,1000,10000')
  .map(({ text, part, n }) => (Number.isSafeInteger(n) && n > 0 ? n : refuse(`--sites ${text}: "${part}" is not a whole number of sites above 0`)));
const [seconds] = list('--seconds', '1').map(({ text, n }) => (Number.isFinite(n) && n > 0 ? n : refuse(`--seconds ${text}: not a positive number of seconds`)));
const policyNames = (arg('--policies') ?? 'balanced,interactive').split(',');
for (const name of policyNames) {
  if (!builtinPolicies().some((p) => p.name === name)) refuse(`--policies ${policyNames.join(',')}: no built-in policy "${name}" (${builtinPolicies().map((p) => p.name).join(', ')})`);
}
const regions = ['eu-central-1', 'us-east-1', 'europe-west4', 'us-central1', 'asia-east1'];
const MODEL = 'llama-3.3-70b';
const NOW = 3000;

function syntheticSites(n: number, rng: () => number): Site[] {
  return Array.from({ length: n }, (_, k) => ({
    id: `sim:p${k}/r/h`, provider: 'simulated', region: regions[k % regions.length], location: 'synthetic', hardware: k % 2 ? 'h100' : 'tpu-v5e',
    simulated: true, endpoint: { kind: 'simulated' }, concurrency: 4 + (k % 8),
    models: [{
      canonical: MODEL, providerModel: 'llama', contextWindow: 128_000,
      price: { inputPer1M: 0.1 + rng(), outputPer1M: 0.2 + 2 * rng(), egressPerGB: k % 3 ? 0.09 : undefined, readOn: '2026-07-24' },
      ttftMs: 100 + 600 * rng(), ttftPerInputTokenMs: 0.1 * rng(), outputTokensPerSecond: 50 + 250 * rng(),
    }],
  }));
}

let gcs = 0;
new PerformanceObserver((list) => { gcs += list.getEntries().length; }).observe({ entryTypes: ['gc'] });
/** GC entries are delivered asynchronously: let them arrive before reading the count. */
const flushGc = () => new Promise((resolve) => setTimeout(resolve, 20));

const requests = Array.from({ length: 3000 }, (_, d) => ({ model: MODEL, inputTokens: 200 + d, maxOutputTokens: 1024 }));
const neutral: SiteResult = { outcome: 'cancelled', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: 0 };

const f = (v: number) => v.toFixed(1);

interface Stats { p50: number; p99: number; max: number; gcPer1k: number; n: number }

/** Warm up, then sample `once` (which returns nanoseconds) for `seconds`. */
async function sample(once: (d: number) => number): Promise<Stats> {
  const warmUntil = Date.now() + Math.max(200, seconds * 300);
  let d = 0;
  while (d < 50 || Date.now() < warmUntil) once(d++);
  await flushGc();
  const samples = new Float64Array(200_000);
  let n = 0;
  const gc0 = gcs;
  const until = Date.now() + seconds * 1000;
  while ((n < 200 || Date.now() < until) && n < samples.length) samples[n++] = once(d++) / 1000;
  await flushGc();
  const gcCount = gcs - gc0;
  const sorted = Array.from(samples.subarray(0, n)).sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[n - 1], gcPer1k: (gcCount * 1000) / n, n };
}

/** Work that takes the same time every call: a chain of square roots, no allocation, no branches that vary. */
function fixedWork(iterations: number): number {
  let x = 0;
  for (let i = 0; i < iterations; i++) x += Math.sqrt(i + x) % 7;
  return x;
}

/** The control row: fixedWork sized so its median is `targetUs`, then sampled like a decision. */
async function control(targetUs: number): Promise<Stats & { iterations: number }> {
  let sink = 0;
  const timed = (iterations: number) => (d: number) => {
    const t0 = process.hrtime.bigint();
    sink += fixedWork(iterations + (d & 1));
    return Number(process.hrtime.bigint() - t0);
  };
  let iterations = 100;
  for (let round = 0; round < 4; round++) {
    const { p50 } = await sample(timed(iterations));
    iterations = Math.max(1, Math.round((iterations * targetUs) / p50));
  }
  const stats = await sample(timed(iterations));
  if (sink === Infinity) console.log(sink); // keeps the work from being optimised away
  return { ...stats, iterations };
}

async function main() {
  const rows: (string | number)[][] = [['sites', 'policy', 'decide p50 us', 'p99 us', 'max us', 'us/site p50', 'gc/1k', 'router p50 us', 'p99 us', 'explained p50 us', 'p99 us', 'gc/1k']];
  for (const n of sizes) {
    const rng = mulberry32(n);
    const sites = syntheticSites(n, rng);
    const index = indexCatalog({ sites, files: [] });
    const telemetry = new Telemetry();
    for (const s of sites) {
      const t = telemetry.onPlaced(s.id, MODEL, 0, 0, s.concurrency);
      telemetry.onResult(t, { outcome: 'complete', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: 300, durationMs: 2000 }, 2000, 200);
      for (let k = 0; k < (s.concurrency ?? 1) * rng(); k++) telemetry.onPlaced(s.id, MODEL, 2000);
    }
    const router = new Router({ index }, telemetry, { now: () => NOW } as Clock, rng);
    for (const policy of builtinPolicies().filter((p) => policyNames.includes(p.name))) {
      const input = (d: number): PlaceInput => ({ id: 'b', request: requests[d % requests.length], index, telemetry, policy, hasKey: () => false, rng, now: NOW });
      const check = place(input(0));
      if (check.candidates.length !== n || check.chosen === null) throw new Error('every candidate must be listed and one chosen');

      const decide = await sample((d) => {
        const inp = input(d);
        const t0 = process.hrtime.bigint();
        const p = place(inp);
        const t1 = process.hrtime.bigint();
        if (p.chosen === null) throw new Error('nothing chosen');
        return Number(t1 - t0);
      });
      const routed = await sample((d) => {
        const req = requests[d % requests.length];
        const t0 = process.hrtime.bigint();
        const r = router.place(req, policy as Policy, { hasKey: () => false, id: 'b' });
        const t1 = process.hrtime.bigint();
        router.settle(r.ticket!, neutral);
        return Number(t1 - t0);
      });
      const explained = await sample((d) => {
        const inp = input(d);
        const t0 = process.hrtime.bigint();
        const p = place(inp);
        const listed = p.candidates.length;
        const t1 = process.hrtime.bigint();
        if (listed !== n) throw new Error('every candidate must be listed');
        return Number(t1 - t0);
      });
      rows.push([n, policy.name, f(decide.p50), f(decide.p99), f(decide.max), (decide.p50 / n).toFixed(3), decide.gcPer1k.toFixed(1),
        f(routed.p50), f(routed.p99), f(explained.p50), f(explained.p99), explained.gcPer1k.toFixed(1)]);
    }
  }
  const reference = rows.find((r) => r[0] === 100) ?? rows[1];
  const ctl = await control(Number(reference[2]));
  console.log(header('Placement decision time'));
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other processes on this machine stretch the tail)`);
  console.log(`every site offers the model; steady state (warm-up, then ${seconds} s of samples per loop, sorted); `
    + 'decide = place(); router = Router.place(); explained = place() + reading placement.candidates (built lazily)\n');
  console.log(table(rows));
  console.log(`\ncontrol: fixed arithmetic (${ctl.iterations} square roots, no allocation) sized to the ${reference[0]}-site ${reference[1]} decision's median: `
    + `p50 ${f(ctl.p50)} us, p99 ${f(ctl.p99)} us (p99/p50 ${(ctl.p99 / ctl.p50).toFixed(2)}), max ${f(ctl.max)} us: the tail this machine adds to any work that long`);
}

void main();
