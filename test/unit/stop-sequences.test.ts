// Stop strings: the daemon's own matcher on the streamed text (every stop string, split across pieces,
// nothing held back that cannot start one), and what each provider is sent of a long list.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StopScanner } from '../../daemon/chat/stop';
import type { Site } from '../../daemon/catalog/types';
import { createAdapter } from '../../daemon/providers/registry';
import { createSimulatedAdapter } from '../../daemon/providers/simulated/adapter';
import { VirtualClock } from '../../daemon/providers/simulated/clock';
import { simSite } from './engine-fixtures';
import { FakeBedrock } from '../fakes/bedrock';
import { send, testSite } from '../fakes/sites';
import { startFake, type FakeUpstream, type WireFormat } from '../fakes/upstream';

/** What the scanner lets through of each piece, whether it stopped, and what it still held at the end. */
function scan(stops: string[], pieces: string[]) {
  const scanner = new StopScanner(stops);
  const shown = pieces.map((p) => scanner.push(p));
  return { shown, stopped: scanner.stopped, rest: scanner.stopped ? '' : scanner.flush() };
}

test('the answer ends where a stop string begins, without it, also when the stop string is split across pieces', () => {
  assert.deepEqual(scan(['world'], ['Hello world and more']), { shown: ['Hello '], stopped: true, rest: '' });
  assert.deepEqual(scan(['world'], ['Hello', ' wor', 'ld', ' and more']), { shown: ['Hello', ' ', '', ''], stopped: true, rest: '' });
  assert.deepEqual(scan(['END'], ['a E', 'N', 'Dx']), { shown: ['a ', '', ''], stopped: true, rest: '' });
});

test('only text that could begin a stop string is held back, and it is let through once it cannot', () => {
  assert.deepEqual(scan(['\n\n'], ['Hello', ' there', '.']), { shown: ['Hello', ' there', '.'], stopped: false, rest: '' });
  assert.deepEqual(scan(['END'], ['a E', 'x']), { shown: ['a ', 'Ex'], stopped: false, rest: '' });
  assert.deepEqual(scan(['END'], ['a EN', 'EN', 'Ex']), { shown: ['a ', 'EN', 'ENEx'], stopped: false, rest: '' });
  // The stream ended on what might have been the start of a stop string: it is the answer's end.
  assert.deepEqual(scan(['END'], ['abc E']), { shown: ['abc '], stopped: false, rest: 'E' });
});

test('the stop string completed first ends the answer, whatever the pieces; of two ending together, the one that began first', () => {
  for (const pieces of [['xabcd'], ['xa', 'bcd'], ['x', 'a', 'b', 'c', 'd'], ['xab', 'cd']]) {
    const { shown, stopped } = scan(['abcd', 'c'], pieces);
    assert.equal(shown.join(''), 'xab', JSON.stringify(pieces));
    assert.ok(stopped);
  }
  assert.equal(scan(['b', 'ab'], ['xab']).shown.join(''), 'x');
  // A stop string that overlaps itself is found where it begins.
  assert.equal(scan(['aab'], ['a', 'a', 'a', 'b']).shown.join(''), 'a');
  assert.equal(scan(['<｜end▁of▁sentence｜>'], ['ok<｜end', '▁of▁sentence｜>more']).shown.join(''), 'ok');
});

test('a long list, as Continue sends for autocomplete, is honoured in full; nothing passes after a stop', () => {
  const stops = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>', '\n\n', '\r\n\r\n', '/src/', '#- coding: utf-8', '```'];
  const scanner = new StopScanner(stops);
  assert.equal(scanner.push('const x = 1;'), 'const x = 1;');
  assert.equal(scanner.push('\nconst y = 2;<|fim'), '\nconst y = 2;');
  assert.equal(scanner.push('_pad|> ignored'), '');
  assert.ok(scanner.stopped);
  assert.equal(scanner.push('more text'), '');
});

test('a simulated site honours every stop string with the same matcher: one split across its pieces ends the answer where it begins', async () => {
  const clock = new VirtualClock();
  const s = simSite('sim:groq/eu-helsinki/lpu', { simulation: { servers: 1, ttftBaseMs: 100, ttftPerInputTokenMs: 0, jitter: 0, outputTokensPerSecond: 20, errorRate: 0 } });
  // One word per 50 ms piece: "dolor" and "sit" arrive apart.
  const adapter = createSimulatedAdapter(s, clock, 1, { replyTokens: () => 40, chunkMs: 50 });
  const pieces: string[] = [];
  const pending = adapter.send({
    site: s, model: s.models[0], messages: [{ role: 'user', content: 'hi' }], maxTokens: 100,
    stop: ['never', 'nor', 'this', 'one', 'either', 'dolor sit'], signal: new AbortController().signal, onDelta: (d) => void pieces.push(d),
  });
  await clock.runUntilIdle();
  const r = await pending;
  assert.equal(r.outcome, 'complete');
  assert.match(r.text, /\] lorem ipsum $/);
  assert.ok(!pieces.some((p) => p.includes('dolor')), JSON.stringify(pieces));
  // Billed for the words before the stop string, one token each.
  assert.equal(r.usage!.output, 2);
});

describe('what each provider is sent of a long stop list (the daemon enforces the rest)', () => {
  const STOPS = ['\n\n', 'END', 'S3', 'S4', 'S5', 'S6', ' '];
  const expected: Record<WireFormat | 'bedrock', string[] | undefined> = {
    // OpenAI, Azure and the compatible servers (Groq, Mistral, vLLM's default) take 4.
    openai: ['\n\n', 'END', 'S3', 'S4'],
    // Anthropic takes many, but refuses whitespace-only ones.
    anthropic: ['END', 'S3', 'S4', 'S5', 'S6'],
    // Gemini takes 5.
    gemini: ['\n\n', 'END', 'S3', 'S4', 'S5'],
    // Bedrock's models take 4, and Claude there refuses whitespace-only ones as Anthropic does.
    bedrock: ['END', 'S3', 'S4', 'S5'],
  };
  const fakes = new Map<WireFormat, FakeUpstream>();
  let bedrock: FakeBedrock;
  before(async () => {
    for (const format of ['openai', 'anthropic', 'gemini'] as const) fakes.set(format, await startFake(format));
    bedrock = await new FakeBedrock().start();
  });
  after(async () => {
    await Promise.all([...fakes.values()].map((f) => f.stop()));
    await bedrock.stop();
  });

  for (const format of ['openai', 'anthropic', 'gemini'] as const) {
    test(format, async () => {
      const fake = fakes.get(format)!;
      const site = testSite(fake);
      const r = await send(createAdapter(site), site, { stop: STOPS });
      assert.equal(r.outcome, 'complete');
      const body = fake.requests[fake.requests.length - 1].body;
      const sent = { openai: body.stop, anthropic: body.stop_sequences, gemini: body.generationConfig?.stopSequences }[format];
      assert.deepEqual(sent, expected[format], JSON.stringify(body));
    });
  }

  test('bedrock', async () => {
    const site: Site = {
      id: 'fake-bedrock/eu-central-1/h100', provider: 'bedrock', region: 'eu-central-1', location: '127.0.0.1', hardware: 'fake', simulated: false,
      endpoint: { kind: 'bedrock', baseUrl: bedrock.baseUrl, idleTimeoutMs: 2000 },
      models: [{ canonical: 'llama-3.1-8b', providerModel: 'meta.llama3-1-8b-instruct-v1:0', contextWindow: 128_000, price: { inputPer1M: 0.22, outputPer1M: 0.22, readOn: '2026-07-24' }, ttftMs: 100, outputTokensPerSecond: 100 }],
    };
    const r = await send(createAdapter(site), site, { stop: STOPS, apiKey: 'bedrock-api-key-0123456789abcdef' });
    assert.equal(r.outcome, 'complete');
    assert.deepEqual(bedrock.requests[bedrock.requests.length - 1].body.inferenceConfig?.stopSequences, expected.bedrock);
  });

  test('a list of whitespace-only stop strings sends Anthropic none', async () => {
    const fake = fakes.get('anthropic')!;
    const site = testSite(fake);
    await send(createAdapter(site), site, { stop: ['\n', '\n\n'] });
    assert.equal('stop_sequences' in fake.requests[fake.requests.length - 1].body, false);
  });
});
