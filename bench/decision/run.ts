// Decision benchmark: microseconds per placement at 10, 100, 1000 and 10000 synthetic sites that all
// offer the model (the worst case: placement reads one site per offer), with live telemetry on each.
//
//   node --import tsx bench/decision/run.ts [--decisions N]

import { indexCatalog } from '../../daemon/catalog/lookup';
import type { Site } from '../../daemon/catalog/types';
import { place } from '../../daemon/engine/placement';
import { builtinPolicies } from '../../daemon/engine/policies';
import { Telemetry } from '../../daemon/engine/telemetry';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import { header, quantile, table } from '../machine';

const i = process.argv.indexOf('--decisions');
const decisions = i >= 0 ? Number(process.argv[i + 1]) : 20_000;
const regions = ['eu-central-1', 'us-east-1', 'europe-west4', 'us-central1', 'asia-east1'];

function syntheticSites(n: number, rng: () => number): Site[] {
  return Array.from({ length: n }, (_, k) => ({
    id: `sim:p${k}/r/h`, provider: 'simulated', region: regions[k % regions.length], location: 'synthetic', hardware: k % 2 ? 'h100' : 'tpu-v5e',
    simulated: true, endpoint: { kind: 'simulated' }, concurrency: 4 + (k % 8),
    models: [{
      canonical: 'llama-3.3-70b', providerModel: 'llama', contextWindow: 128_000,
      price: { inputPer1M: 0.1 + rng(), outputPer1M: 0.2 + 2 * rng(), egressPerGB: k % 3 ? 0.09 : undefined, readOn: '2026-07-24' },
      ttftMs: 100 + 600 * rng(), ttftPerInputTokenMs: 0.1 * rng(), outputTokensPerSecond: 50 + 250 * rng(),
    }],
  }));
}

const rows: (string | number)[][] = [['sites', 'policy', 'decide p50 us', 'decide p99 us', 'us per site (p50)', 'with explanation p50 us', 'p99 us']];
for (const n of [10, 100, 1000, 10_000]) {
  const rng = mulberry32(n);
  const sites = syntheticSites(n, rng);
  const index = indexCatalog({ sites, files: [] });
  const telemetry = new Telemetry();
  for (const s of sites) {
    const t = telemetry.onPlaced(s.id, 'llama-3.3-70b', 0, 0, s.concurrency);
    telemetry.onResult(t, { outcome: 'complete', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: 300, durationMs: 2000 }, 2000, 200);
    for (let k = 0; k < (s.concurrency ?? 1) * rng(); k++) telemetry.onPlaced(s.id, 'llama-3.3-70b', 2000);
  }
  for (const policy of builtinPolicies().filter((p) => p.name === 'balanced' || p.name === 'interactive')) {
    const count = Math.max(200, Math.floor(decisions / Math.max(1, n / 100)));
    const times: number[] = [];
    const explained: number[] = [];
    for (let d = 0; d < count + 100; d++) {
      const input = { id: 'b', request: { model: 'llama-3.3-70b', inputTokens: 200 + (d % 3000), maxOutputTokens: 1024 }, index, telemetry, policy, hasKey: () => false, rng, now: 3000 };
      const t0 = process.hrtime.bigint();
      const placement = place(input);
      const t1 = process.hrtime.bigint();
      if (placement.candidates.length !== n) throw new Error('every candidate must be listed');
      const t2 = process.hrtime.bigint();
      if (d >= 100) { // the first hundred warm the JIT
        times.push(Number(t1 - t0) / 1000);
        explained.push(Number(t2 - t0) / 1000);
      }
    }
    times.sort((a, b) => a - b);
    explained.sort((a, b) => a - b);
    const p50 = quantile(times, 0.5);
    rows.push([n, policy.name, p50.toFixed(1), quantile(times, 0.99).toFixed(1), (p50 / n).toFixed(3), quantile(explained, 0.5).toFixed(1), quantile(explained, 0.99).toFixed(1)]);
  }
}
console.log(header('Placement decision time'));
console.log('every site offers the model; decide = place() returning the Placement; with explanation = also reading placement.candidates (built lazily)\n');
console.log(table(rows));
