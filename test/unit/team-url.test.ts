import assert from 'node:assert/strict';
import { test } from 'node:test';
import { teamUrlProblem, teamUrlSecrets } from '../../daemon/team/url';

test('a team URL must be redis:// or rediss:// with a host; the problem completes a sentence', () => {
  assert.equal(teamUrlProblem('redis://127.0.0.1:6379'), null);
  assert.equal(teamUrlProblem('rediss://:secret@redis.internal:6380'), null);
  assert.equal(teamUrlProblem('redis.internal:6379'), 'must be a redis:// or rediss:// URL, not redis.internal://');
  assert.equal(teamUrlProblem('https://redis.internal'), 'must be a redis:// or rediss:// URL, not https://');
  assert.equal(teamUrlProblem('not a url'), 'is not a URL (expected redis://host:port or rediss://host:port)');
  assert.equal(teamUrlProblem('redis://'), 'names no host');
});

test('the secrets of a team URL: the URL, and its password decoded', () => {
  assert.deepEqual(teamUrlSecrets('redis://:p%40ss-word-123@h:1'), ['redis://:p%40ss-word-123@h:1', 'p@ss-word-123']);
  assert.deepEqual(teamUrlSecrets('redis://h:1'), ['redis://h:1']);
});
