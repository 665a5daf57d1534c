import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SiteInfo, TeamLedgerStatus, TeamStatus, TelemetrySnapshot } from '../../daemon/protocol';
import { groupRows, ledgerRow, siteGroups, teamRow } from '../../extension/siteRows';

const LEDGER_OFF: TeamLedgerStatus = {
  state: 'off', server: null, error: null, member: 'ann@laptop', spentTodayNanoUsd: 0, spentMonthNanoUsd: 0, reservedNanoUsd: 0, budgets: [], members: [], behind: false,
};
const idle: TelemetrySnapshot = { inFlight: 0, queueDepth: null, ttftMs: null, outputTokensPerSecond: null, errorRate: 0, headroom: 1, breaker: 'closed', samples: 0 };

function info(id: string, extra: { unavailable?: SiteInfo['unavailable']; telemetry?: Partial<TelemetrySnapshot>; simulated?: boolean } = {}): SiteInfo {
  return {
    site: { id, provider: 'groq', region: id, location: `${id} · Helsinki`, hardware: 'groq-lpu', simulated: extra.simulated ?? true },
    endpointKind: 'simulated',
    unavailable: extra.unavailable ?? null,
    telemetry: { ...idle, ...extra.telemetry },
    models: [{
      canonical: 'llama-3.3-70b', providerModel: 'llama-3.3-70b-versatile', contextWindow: 131_072, maxOutputTokens: 32_768, ttftMs: 180, outputTokensPerSecond: 275, images: false, tools: false,
      price: { inputPer1M: 0.59, outputPer1M: 0.79, cachedInputPer1M: 0.295, requestFee: 0.0001, readOn: '2026-07-24', source: 'groq.com/pricing' },
    }],
  };
}

describe('the Sites view rows', () => {
  it('puts serving sites first (breakers open or not), then those that need a key, then the disabled', () => {
    const g = siteGroups([
      info('eu-b', { telemetry: { breaker: 'open', samples: 3, ttftMs: 900, outputTokensPerSecond: 100, errorRate: 0.5 } }),
      info('eu-a'),
      info('real', { unavailable: 'no key', simulated: false }),
      info('off', { unavailable: 'disabled' }),
    ]);
    assert.deepEqual(g.serving.map((r) => [r.id, r.state]), [['eu-a', 'serving'], ['eu-b', 'open']]);
    assert.deepEqual(g.needKey.map((r) => [r.id, r.provider, r.label, r.description]), [['real', 'groq', 'groq · real · groq-lpu', 'no key']]);
    assert.deepEqual(g.disabled.map((r) => r.id), ['off']);
    assert.equal(g.serving[0].label, 'groq · eu-a · groq-lpu');
    assert.equal(g.serving[0].description, 'simulated · no requests yet');
    assert.equal(g.serving[1].description, 'simulated · breaker open · TTFT 900 ms · 100 tok/s · 50% errors');
    assert.match(g.serving[1].tooltip, /circuit breaker open after repeated failures/);
  });

  it('puts a real site that needs its base URL with those that need a key, saying what to set', () => {
    const g = siteGroups([info('azure', { unavailable: 'no address', simulated: false })]);
    assert.deepEqual(g.needKey.map((r) => [r.id, r.state, r.description]), [['azure', 'no address', 'no address']]);
    assert.match(g.needKey[0].tooltip, /needs endpoint\.baseUrl in the catalog file/);
  });

  it('describes a busy site by what placement weighs: measured TTFT and speed, in flight, queued, errors, rate-limit headroom', () => {
    const [row] = siteGroups([info('x', { telemetry: { samples: 40, ttftMs: 212.4, outputTokensPerSecond: 301.2, inFlight: 3, queueDepth: 2, errorRate: 0.025, headroom: 0.4 } })]).serving;
    assert.equal(row.description, 'simulated · TTFT 212 ms · 301 tok/s · 3 in flight · 2 queued · 2.5% errors · 40% rate-limit headroom');
    assert.match(row.tooltip, /Measured over 40 requests: time to first token 212 ms, 301 tok\/s, 2\.5% errors\./);
    assert.match(row.tooltip, /x · Helsinki · endpoint `simulated` · id `x`/);
  });

  it('shows a site that said to wait as rate-limited for as long as placement leaves it alone', () => {
    const [row] = siteGroups([info('x', { simulated: false, telemetry: { samples: 12, ttftMs: 300, outputTokensPerSecond: 90, rateLimitedMs: 12_400, headroom: 0 } })]).serving;
    assert.equal(row.state, 'rate-limited');
    assert.equal(row.description, 'rate-limited for 12.4 s · TTFT 300 ms · 90 tok/s · 0% rate-limit headroom');
    assert.match(row.tooltip, /State: rate-limited: it said to wait \(429, Retry-After\)/);
    const [after] = siteGroups([info('x', { simulated: false, telemetry: { samples: 12, ttftMs: 300, outputTokensPerSecond: 90, rateLimitedMs: 0 } })]).serving;
    assert.equal(after.state, 'serving');
  });

  it('shows each model\'s price card as published, with the cents\' fractions kept', () => {
    const [model] = siteGroups([info('x')]).serving[0].models;
    assert.equal(model.label, 'llama-3.3-70b');
    assert.equal(model.description, '$0.59 in · $0.79 out per 1M · 131k context');
    assert.match(model.tooltip, /^\*\*llama-3\.3-70b\*\* here is `llama-3\.3-70b-versatile`/);
    assert.match(model.tooltip, /- input \$0\.59 per 1M tokens, cached \$0\.295\n- output \$0\.79 per 1M tokens\n- \$0\.0001 per request\n- read 2026-07-24 from groq\.com\/pricing/);
    assert.match(model.tooltip, /answers up to 32,768 tokens/);
  });

  it('shows every cache price a card has, the 1-hour write and the tier\'s cached price included', () => {
    const site = info('x');
    site.models[0].price = {
      inputPer1M: 1.25, outputPer1M: 5, cachedInputPer1M: 0.3125, cacheWritePer1M: 1.5625, cacheWrite1hPer1M: 2.5, readOn: '2026-12-07',
      tier: { aboveInputTokens: 128_000, inputPer1M: 2.5, outputPer1M: 10, cachedInputPer1M: 0.625 },
    };
    const [model] = siteGroups([site]).serving[0].models;
    assert.match(model.tooltip, /- input \$1\.25 per 1M tokens, cached \$0\.3125, cache write \$1\.5625 \(1 h: \$2\.50\)\n- output \$5\.00 per 1M tokens\n- above 128,000 input tokens: input \$2\.50, cached \$0\.625, output \$10\.00 per 1M/);
  });
});

describe('the Sites view rows with telemetry missing, zero or near its bounds', () => {
  it('leaves out what was never measured, rather than a dash: a site whose requests all failed', () => {
    // Samples count every result; a site that only failed (a refused key, a dead host) has no first token or speed.
    const [row] = siteGroups([info('down', { simulated: false, telemetry: { breaker: 'open', samples: 3, errorRate: 1, ttftMs: null, outputTokensPerSecond: null } })]).serving;
    assert.equal(row.description, 'breaker open · 100% errors');
    assert.match(row.tooltip, /Measured over 3 requests: 100\.0% errors\./);
    const [slow] = siteGroups([info('one-token', { telemetry: { samples: 2, ttftMs: 340, outputTokensPerSecond: null } })]).serving;
    assert.equal(slow.description, 'simulated · TTFT 340 ms');
    assert.match(slow.tooltip, /Measured over 2 requests: time to first token 340 ms, 0\.0% errors\./);
    // Answered, but never a token to time (an empty answer): not "no requests yet".
    assert.equal(siteGroups([info('empty', { telemetry: { samples: 1 } })]).serving[0].description, 'simulated · 1 request, no timings yet');
  });

  it('does not read "0.0% errors" or "100% rate-limit headroom" for figures that round to nothing', () => {
    // The error rate decays towards 0 after a failure long ago; OpenAI-style headers leave remaining = limit - 1.
    const [row] = siteGroups([info('x', { telemetry: { samples: 500, ttftMs: 200, outputTokensPerSecond: 250, errorRate: 0.0003, headroom: 14_399 / 14_400 } })]).serving;
    assert.equal(row.description, 'simulated · TTFT 200 ms · 250 tok/s');
    const [low] = siteGroups([info('y', { telemetry: { samples: 5, ttftMs: 200, outputTokensPerSecond: 250, errorRate: 0.0006, headroom: 0.994 } })]).serving;
    assert.equal(low.description, 'simulated · TTFT 200 ms · 250 tok/s · 0.1% errors · 99% rate-limit headroom');
  });

  it('shows a price with every published digit: Gemini 1.5 Flash\'s cached input at $0.01875, not $0.0187', () => {
    const site = info('x');
    site.models[0].price = { inputPer1M: 0.075, outputPer1M: 0.3, cachedInputPer1M: 0.01875, readOn: '2026-12-07', tier: { aboveInputTokens: 128_000, inputPer1M: 0.15, cachedInputPer1M: 0.0375, outputPer1M: 0.6 } };
    const [model] = siteGroups([site]).serving[0].models;
    assert.equal(model.description, '$0.075 in · $0.30 out per 1M · 131k context');
    assert.match(model.tooltip, /- input \$0\.075 per 1M tokens, cached \$0\.01875\n- output \$0\.30 per 1M tokens\n- above 128,000 input tokens: input \$0\.15, cached \$0\.0375, output \$0\.60 per 1M/);
  });

  it('sets a twin apart while its real site serves in its place: placement does not send it requests', () => {
    const real = (id: string, unavailable: SiteInfo['unavailable'] = null) => info(id, { simulated: false, unavailable });
    const g = siteGroups([real('groq/h'), info('sim:groq/h'), real('azure/x', 'no address'), info('sim:azure/x'), real('together/t', 'no key'), info('sim:together/t'), info('local/sim-only')]);
    assert.deepEqual(g.serving.map((r) => r.id), ['groq/h', 'local/sim-only', 'sim:azure/x', 'sim:together/t']);
    assert.deepEqual(g.standingDown.map((r) => [r.id, r.state, r.description]), [['sim:groq/h', 'stands down', 'simulated · stands down']]);
    assert.match(g.standingDown[0].tooltip, /State: stands down while its real site has its key: requests go there, unless they name the twin itself\./);
    assert.deepEqual(groupRows(g).map((row) => [row.id, row.label]), [['needKey', 'Need an API key (2)'], ['standingDown', 'Twins standing down (1)']]);
  });

  it('keeps each group\'s identity while its count changes, so an expanded group stays open across refreshes', () => {
    const before = groupRows(siteGroups([info('a', { unavailable: 'no key', simulated: false }), info('b', { unavailable: 'no key', simulated: false }), info('c', { unavailable: 'disabled' })]));
    const after = groupRows(siteGroups([info('a', { unavailable: 'no key', simulated: false }), info('c', { unavailable: 'disabled' }), info('d', { unavailable: 'disabled' })]));
    assert.deepEqual(before.map((g) => [g.id, g.label]), [['needKey', 'Need an API key (2)'], ['disabled', 'Disabled (1)']]);
    assert.deepEqual(after.map((g) => [g.id, g.label]), [['needKey', 'Need an API key (1)'], ['disabled', 'Disabled (2)']]);
    assert.deepEqual(groupRows(siteGroups([info('e')])), []);
  });
});

describe('the Sites view\'s team row', () => {
  const team = (extra: Partial<TeamStatus>): TeamStatus => ({ telemetry: 'connected', server: 'redis.internal:6379', peers: 0, published: 0, received: 0, error: null, ledger: LEDGER_OFF, ...extra });

  it('is absent while telemetry is not shared', () => {
    assert.equal(teamRow(team({ telemetry: 'off', server: null })), null);
  });

  it('counts teammates and what was shared and taken; a link not up is trouble that says why', () => {
    const up = teamRow(team({ peers: 2, published: 1200, received: 35 }))!;
    assert.equal(up.description, '2 teammates · redis.internal:6379');
    assert.equal(up.trouble, false);
    assert.match(up.tooltip, /1,200 shared, 35 taken from 2 teammates/);
    assert.equal(teamRow(team({ peers: 1 }))!.description, '1 teammate · redis.internal:6379');
    assert.equal(teamRow(team({ telemetry: 'connecting' }))!.description, 'connecting to redis.internal:6379…');
    const down = teamRow(team({ telemetry: 'unreachable', error: 'connect ECONNREFUSED 10.0.0.5:6379' }))!;
    assert.equal(down.description, 'unreachable: connect ECONNREFUSED 10.0.0.5:6379');
    assert.equal(down.trouble, true);
    assert.match(down.tooltip, /keeps trying/);
  });
});

describe('the Sites view\'s team ledger row', () => {
  const status = (ledger: Partial<TeamLedgerStatus>): TeamStatus => ({
    telemetry: 'off', server: null, peers: 0, published: 0, received: 0, error: null,
    ledger: { ...LEDGER_OFF, state: 'connected', server: 'db.internal:5432', ...ledger },
  });

  it('is absent without a team ledger, whatever the telemetry does', () => {
    assert.equal(ledgerRow(status({ state: 'off', server: null })), null);
  });

  it('shows the team\'s spend, or each budget as spent of cap, with the members in the tooltip', () => {
    const plain = ledgerRow(status({ spentTodayNanoUsd: 1_250_000_000, spentMonthNanoUsd: 40_000_000_000, members: [{ member: 'ann@laptop', spentMonthNanoUsd: 30_000_000_000 }, { member: 'bo@desk', spentMonthNanoUsd: 10_000_000_000 }] }))!;
    assert.equal(plain.description, '$1.25 today · $40.00 this month');
    assert.equal(plain.trouble, false);
    assert.equal(plain.command, 'switchyard.connectTeamLedger');
    assert.match(plain.tooltip, /This month by member: ann@laptop \$30\.00, bo@desk \$10\.00\./);
    assert.match(plain.tooltip, /records as ann@laptop/);

    const capped = ledgerRow(status({
      spentTodayNanoUsd: 5_000_000_000,
      budgets: [{ scope: 'day', capNanoUsd: 5_000_000_000, spentNanoUsd: 5_000_000_000, reservedNanoUsd: 0, state: 'exceeded', setBy: 'bo@desk' }],
    }))!;
    assert.equal(capped.description, '$5.00 of $5.00 today');
    assert.equal(capped.trouble, true, 'a spent team budget is trouble');
    assert.match(capped.tooltip, /Team daily budget \$5\.00 \(set by bo@desk\): spent, so requests to real sites are refused\./);
  });

  it('says why the ledger is not reached, and what that means for paid requests', () => {
    const down = ledgerRow(status({ state: 'unreachable', error: 'connect ECONNREFUSED 10.0.0.9:5432', behind: true }))!;
    assert.equal(down.description, 'unreachable: connect ECONNREFUSED 10.0.0.9:5432');
    assert.equal(down.trouble, true);
    assert.match(down.tooltip, /refused rather than sent unchecked/);
    assert.match(down.tooltip, /have not reached the team ledger yet/);
    assert.equal(ledgerRow(status({ state: 'connecting' }))!.description, 'connecting to db.internal:5432…');
  });
});
