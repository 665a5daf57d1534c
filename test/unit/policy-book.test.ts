// Policy definitions as the user writes them: what validation refuses, naming the policy and the field,
// and that a refusal, or a stored choice read at start, changes nothing it should not.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validatePolicy } from '../../daemon/engine/policies';
import { PolicyBook } from '../../daemon/engine/policyBook';
import type { Policy } from '../../daemon/protocol';

test('a field a policy does not have is refused, not ignored: a misspelt "constraints" would drop its residency rule', () => {
  assert.deepEqual(validatePolicy({ name: 'eu', kind: 'cheapest', constraint: { regions: ['eu'] } }), ['policy "eu": constraint is not a known field']);
  assert.deepEqual(validatePolicy({ name: 'x', kind: 'cheapest', description: 5, continueOnCut: 'yes' }), [
    'policy "x": description must be a string',
    'policy "x": continueOnCut must be true or false',
  ]);
});

test('a field of another kind of policy is refused: it would not do what it says', () => {
  assert.deepEqual(validatePolicy({ name: 'c', kind: 'cheapest', usdPerSecond: 0.01 }), ['policy "c": usdPerSecond applies only to kind balanced, not cheapest']);
  assert.deepEqual(validatePolicy({ name: 'p', kind: 'pinned', site: 'a', order: ['a', 'b'] }), ['policy "p": order applies only to kind first-fit, not pinned']);
  assert.deepEqual(validatePolicy({ name: 'f', kind: 'first-fit', order: ['a'], site: 'a' }), ['policy "f": site applies only to kind pinned, not first-fit']);
  // Fields of its own kind stay accepted.
  assert.deepEqual(validatePolicy({ name: 'b', kind: 'balanced', usdPerSecond: 0, description: 'd', continueOnCut: true, fallback: 'fastest' }), []);
});

test('a name must say which policy it is: not blank, no spaces around it', () => {
  assert.deepEqual(validatePolicy({ name: '  ', kind: 'cheapest' }), ['policy (unnamed): name must be a non-empty string without spaces around it']);
  assert.deepEqual(validatePolicy({ name: 'eu ', kind: 'cheapest' }), ['policy "eu ": name must be a non-empty string without spaces around it']);
});

test('max queue depth counts requests: a fraction is refused', () => {
  assert.deepEqual(validatePolicy({ name: 'q', kind: 'cheapest', constraints: { maxQueueDepth: 1.5 } }), ['policy "q": constraints.maxQueueDepth must be an integer >= 0, got 1.5']);
  assert.deepEqual(validatePolicy({ name: 'q', kind: 'cheapest', constraints: { maxQueueDepth: 0 } }), []);
});

test('two policies of one name are refused, naming it, and the book keeps what it had', () => {
  const book = new PolicyBook();
  book.configure({ policies: [{ name: 'mine', kind: 'fastest' }], defaultPolicy: 'mine' });
  const twice: Policy[] = [{ name: 'eu', kind: 'cheapest', constraints: { regions: ['eu'] } }, { name: 'eu', kind: 'fastest' }];
  assert.throws(() => book.configure({ policies: twice }), (e: Error) => e.message === 'policy "eu": name is given to 2 policies');
  assert.deepEqual(book.choice(), { policies: [{ name: 'mine', kind: 'fastest' }], defaultPolicy: 'mine', workspacePolicies: {} });
});

test('a stored choice whose pinned site is not in the catalog yet is kept whole, with its residency rules', () => {
  // The catalog file that adds "mine/x/y" was refused at start (or is read later): the built-in fleet is in force.
  const stored = {
    policies: [
      { name: 'eu-strict', kind: 'cheapest', constraints: { regions: ['eu'] } },
      { name: 'local', kind: 'pinned', site: 'mine/x/y' },
    ] as Policy[],
    defaultPolicy: 'local',
    workspacePolicies: { '/work/client': 'eu-strict' },
  };
  const book = new PolicyBook(stored, () => new Set(['groq/eu-helsinki/lpu']));
  assert.equal(book.active('/work/client').name, 'eu-strict');
  assert.equal(book.active().name, 'local');
  assert.deepEqual(book.choice(), stored);
  // Set by the user now, an unknown site is still refused.
  assert.throws(() => book.configure({ policies: [{ name: 'typo', kind: 'pinned', site: 'mine/x/z' }] }), /policy "typo": site names unknown site "mine\/x\/z"/);
});

test('a policy chosen for all workspaces from one with its own choice applies there too; other workspaces keep theirs', () => {
  const book = new PolicyBook();
  book.configure({ policies: [], defaultPolicy: 'balanced' });
  book.setActive('fastest', '/ws/a');
  book.setActive('interactive', '/ws/b');
  assert.deepEqual([book.active('/ws/a').name, book.list('/ws/a').scope], ['fastest', 'workspace']);

  book.setActive('cheapest', '/ws/a', true);
  assert.deepEqual([book.active('/ws/a').name, book.list('/ws/a').scope, book.active().name], ['cheapest', 'global', 'cheapest']);
  assert.equal(book.active('/ws/b').name, 'interactive');
  assert.deepEqual(book.choice().workspacePolicies, { '/ws/b': 'interactive' }, 'the dropped choice is not saved either');
});
