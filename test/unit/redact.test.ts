import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../daemon/log/redact';
import { createLogger } from '../../daemon/log/logger';

test('known secrets and key-shaped strings are masked in text and in nested values', () => {
  const redactor = new Redactor();
  redactor.add('daemon-token-1234567890');
  const text = redactor.text('token daemon-token-1234567890 and sk-proj-ABCDEFGHIJKLMNOPQRSTUV and gsk_abcdefghijklmnopqrstu and Bearer abc.def.ghi');
  for (const secret of ['daemon-token-1234567890', 'sk-proj-ABCDEFGHIJKLMNOPQRSTUV', 'gsk_abcdefghijklmnopqrstu', 'abc.def.ghi']) {
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }
  const value = redactor.value({ headers: { authorization: 'x', 'x-api-key': 'y' }, nested: [{ msg: 'key AIzaSyA1234567890abcdefghijklmnopqrstu' }] });
  assert.deepEqual(value, { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' }, nested: [{ msg: 'key [redacted]' }] });
  assert.equal(redactor.text('api_key=hunter2hunter2'), 'api_key=[redacted]');
  assert.equal(redactor.text('an ordinary sentence'), 'an ordinary sentence');
});

test('every provider key shape, AWS credentials, Basic auth and URL passwords are masked', () => {
  const redactor = new Redactor();
  const secrets = {
    openai: 'sk-' + 'a1B2'.repeat(12),
    project: 'sk-proj-Ab_cD-' + 'x9'.repeat(40),
    anthropic: 'sk-ant-api03-' + 'Z_y-'.repeat(20) + 'AA',
    groq: 'gsk_' + 'q7'.repeat(26),
    google: 'AIzaSyD-' + 'k_3'.repeat(11),
    xai: 'xai-' + 'Tz8'.repeat(26),
    awsKeyId: 'AKIAIOSFODNN7EXAMPLE',
    awsTemporaryKeyId: 'ASIAIOSFODNN7EXAMPLE',
    awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    awsSession: 'IQoJb3JpZ2luX2VjEXAMPLE+SESSION/TOKEN==',
    basic: 'dXNlcjpodW50ZXIy',
    redisPassword: 'hunter2',
    postgresPassword: 'p%40ss:w0rd',
  };
  const lines = [
    `OpenAI said: Incorrect API key provided: ${secrets.openai}.`,
    `key ${secrets.project} and ${secrets.anthropic}`,
    `groq=${secrets.groq}, google ${secrets.google}, xai "${secrets.xai}"`,
    `AWS_ACCESS_KEY_ID=${secrets.awsKeyId} ${secrets.awsTemporaryKeyId}`,
    `AWS_SECRET_ACCESS_KEY=${secrets.awsSecret}`,
    `aws_session_token = ${secrets.awsSession}`,
    `{"secretAccessKey":"${secrets.awsSecret}","sessionToken":"${secrets.awsSession}"}`,
    `Authorization: Basic ${secrets.basic}`,
    `connect redis://:${secrets.redisPassword}@redis.internal:6379 failed`,
    `postgres://ledger:${secrets.postgresPassword}@db.internal:5432/team refused`,
  ];
  for (const line of lines) {
    const masked = redactor.text(line);
    for (const [name, secret] of Object.entries(secrets)) assert.ok(!masked.includes(secret), `${name} leaked: ${masked}`);
    assert.match(masked, /\[redacted\]/, line);
  }
  assert.equal(redactor.text('redis://:hunter2@redis.internal:6379'), 'redis://:[redacted]@redis.internal:6379', 'the host stays readable');
  assert.equal(redactor.text('see https://example.com:8080/a@b'), 'see https://example.com:8080/a@b', 'a port is not a password');
});

test('secrets are masked however deep they sit, and fields named for a secret lose their value; token counts stay', () => {
  const redactor = new Redactor();
  let deep: unknown = { note: 'key sk-proj-' + 'D'.repeat(30) };
  for (let i = 0; i < 12; i++) deep = { inner: deep };
  assert.ok(!JSON.stringify(redactor.value(deep)).includes('D'.repeat(30)), 'a secret below the depth limit leaked');
  const value = redactor.value({
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'plain-looking-secret-value', sessionToken: 'plain-session' },
    db: { password: 'pw', dbPassword: 'pw2' },
    'proxy-authorization': 'Basic abc',
    tokens: { input: 5, output: 7 },
    maxTokens: 100,
  });
  assert.deepEqual(value, {
    credentials: { accessKeyId: '[redacted]', secretAccessKey: '[redacted]', sessionToken: '[redacted]' },
    db: { password: '[redacted]', dbPassword: '[redacted]' },
    'proxy-authorization': '[redacted]',
    tokens: { input: 5, output: 7 },
    maxTokens: 100,
  });
});

test('a log listener that throws (a window whose connection just closed) neither breaks the log call nor the other listeners', () => {
  const log = createLogger({ redactor: new Redactor() });
  const heard: string[] = [];
  log.subscribe(() => {
    throw new Error('Connection is closed.');
  });
  log.subscribe((_level, line) => void heard.push(line));
  assert.doesNotThrow(() => log.info('first', { n: 1 }));
  log.warn('second');
  assert.deepEqual(heard, ['first {"n":1}', 'second']);
});
