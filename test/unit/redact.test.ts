import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../daemon/log/redact';

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
