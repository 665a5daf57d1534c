import assert from 'node:assert/strict';
import { test } from 'node:test';
import { teamServerOf, teamUrlProblem, teamUrlSecrets } from '../../daemon/team/url';

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

test('a team ledger URL must be PostgreSQL\'s, and its password is masked like Redis\'s', () => {
  assert.equal(teamUrlProblem('postgres://switchyard:pw@db.internal:5432/switchyard', 'postgres'), null);
  assert.equal(teamUrlProblem('postgresql://db.internal/switchyard', 'postgres'), null);
  assert.equal(teamUrlProblem('redis://db.internal:6379', 'postgres'), 'must be a postgres:// or postgresql:// URL, not redis://');
  assert.equal(teamUrlProblem('db.internal:5432', 'postgres'), 'must be a postgres:// or postgresql:// URL, not db.internal://');
  assert.equal(teamUrlProblem('no url', 'postgres'), 'is not a URL (expected postgres://user[:password]@host:port/database)');
  assert.deepEqual(teamUrlSecrets('postgres://u:s%3Acret@h/db'), ['postgres://u:s%3Acret@h/db', 's:cret']);
  assert.equal(teamServerOf('postgres://u:s@db.internal/x', 'postgres'), 'db.internal:5432');
  assert.equal(teamServerOf('redis://:s@cache:6380', 'redis'), 'cache:6380');
});

test('a URL whose user name or password has a bare % is refused before anything decodes it', () => {
  // new URL() takes these as they are; decoding them (the redactor, pg) throws URIError.
  assert.equal(teamUrlProblem('postgres://postgres:100%sure@127.0.0.1:5432/switchyard', 'postgres'), 'has a malformed %-escape in its password (write % as %25)');
  assert.equal(teamUrlProblem('redis://:50%off@cache:6379'), 'has a malformed %-escape in its password (write % as %25)');
  assert.equal(teamUrlProblem('postgres://ops%@db.internal/switchyard', 'postgres'), 'has a malformed %-escape in its user name (write % as %25)');
  assert.equal(teamUrlProblem('postgres://postgres:100%25sure@127.0.0.1:5432/switchyard', 'postgres'), null);
  assert.deepEqual(teamUrlSecrets('postgres://postgres:100%25sure@h/db'), ['postgres://postgres:100%25sure@h/db', '100%sure']);
});
