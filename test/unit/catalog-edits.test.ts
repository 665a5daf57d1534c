// A site switched off and on from the Sites view: the edits to the user's catalog file, and what the
// daemon makes of the file they leave.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEdits } from 'jsonc-parser';
import { buildCatalog } from '../../daemon/catalog/merge';
import { CatalogTextError, siteSwitchEdits } from '../../extension/catalogEdits';

const HELSINKI = 'groq/eu-helsinki/lpu';
/** Disabled in the built-in fleet (an illustrative site). */
const AMSTERDAM = 'groq/eu-amsterdam/lpu';

const switched = (text: string, id: string, disabled: boolean) => applyEdits(text, siteSwitchEdits(text, id, disabled));
const disabledIds = (text: string) => new Set(buildCatalog([{ name: 'user.json', text }]).sites.filter((s) => s.disabled).map((s) => s.id));

test('switching a site off adds an override the daemon honours for the site and its twin; on again says so', () => {
  const empty = '{\n  "sites": []\n}\n';
  const off = switched(empty, HELSINKI, true);
  assert.deepEqual(JSON.parse(off), { sites: [{ id: HELSINKI, disabled: true }] });
  assert.ok(disabledIds(off).has(HELSINKI) && disabledIds(off).has(`sim:${HELSINKI}`));
  const on = switched(off, HELSINKI, false);
  assert.deepEqual(JSON.parse(on), { sites: [{ id: HELSINKI, disabled: false }] });
  assert.ok(!disabledIds(on).has(HELSINKI) && !disabledIds(on).has(`sim:${HELSINKI}`));
  // An empty file (created but never written) takes the entry too.
  assert.deepEqual(JSON.parse(switched('', HELSINKI, true)), { sites: [{ id: HELSINKI, disabled: true }] });
});

test('the user\'s own overrides of the site stay when it is switched; other entries and the layout are not touched', () => {
  const text = '{\n  "sites": [\n    { "id": "together/us/h100", "concurrency": 3 },\n    { "id": "groq/eu-helsinki/lpu", "concurrency": 2 }\n  ]\n}\n';
  const off = switched(text, HELSINKI, true);
  assert.deepEqual(JSON.parse(off).sites, [{ id: 'together/us/h100', concurrency: 3 }, { id: HELSINKI, concurrency: 2, disabled: true }]);
  assert.ok(off.startsWith('{\n  "sites": [\n    { "id": "together/us/h100", "concurrency": 3 },'), off);
  assert.deepEqual(JSON.parse(switched(off, HELSINKI, false)).sites, [{ id: 'together/us/h100', concurrency: 3 }, { id: HELSINKI, concurrency: 2, disabled: false }]);
});

test('a site the built-in fleet disables is switched on with an explicit "disabled": false', () => {
  const empty = '{ "sites": [] }';
  assert.ok(disabledIds(empty).has(AMSTERDAM));
  const on = switched(empty, AMSTERDAM, false);
  assert.deepEqual(JSON.parse(on), { sites: [{ id: AMSTERDAM, disabled: false }] });
  assert.ok(!disabledIds(on).has(AMSTERDAM));
  assert.deepEqual(JSON.parse(switched(on, AMSTERDAM, true)), { sites: [{ id: AMSTERDAM, disabled: true }] });
});

test('a site the built-in fleet disables stays on after Enable, Disable, Enable', () => {
  const on = switched(switched(switched('{\n  "sites": []\n}\n', AMSTERDAM, false), AMSTERDAM, true), AMSTERDAM, false);
  assert.deepEqual(JSON.parse(on), { sites: [{ id: AMSTERDAM, disabled: false }] });
  assert.ok(!disabledIds(on).has(AMSTERDAM) && !disabledIds(on).has(`sim:${AMSTERDAM}`));
  // The user's own overrides of it stay alongside.
  const tuned = switched(`{ "sites": [ { "id": "${AMSTERDAM}", "concurrency": 2, "disabled": true } ] }`, AMSTERDAM, false);
  assert.deepEqual(JSON.parse(tuned).sites, [{ id: AMSTERDAM, concurrency: 2, disabled: false }]);
  assert.ok(!disabledIds(tuned).has(AMSTERDAM));
});

test('a file that is not valid JSON, or not a catalog, is refused with what is wrong, and no edit is made', () => {
  const refused = (text: string, message: RegExp) =>
    assert.throws(() => siteSwitchEdits(text, HELSINKI, true), (e: Error) => e instanceof CatalogTextError && message.test(e.message));
  refused('{ "sites": [ { "id": "x", } ] }', /^is not valid JSON \(PropertyNameExpected at line 1, column 27\); fix it, then try again$/);
  refused('{ "sites": [] // note\n}', /^is not valid JSON \(InvalidCommentToken at line 1, column 15\)/);
  refused('[]', /^must be an object with a "sites" list$/);
  refused('{ "sites": {} }', /^has "sites" that is not a list$/);
});

test('a site named twice in the file is switched in the entry that applies last, so Enable and Disable take', () => {
  // The daemon applies entries in order, each over the one before: the last "disabled" wins.
  const twice = `{ "sites": [ { "id": "${HELSINKI}", "disabled": false }, { "id": "${HELSINKI}", "disabled": true } ] }`;
  const on = switched(twice, HELSINKI, false);
  assert.ok(!disabledIds(on).has(HELSINKI) && !disabledIds(on).has(`sim:${HELSINKI}`), on);
  assert.deepEqual(JSON.parse(on).sites, [{ id: HELSINKI, disabled: false }, { id: HELSINKI, disabled: false }]);
  const off = switched(`{ "sites": [ { "id": "${HELSINKI}", "disabled": true }, { "id": "${HELSINKI}", "concurrency": 2 } ] }`, HELSINKI, false);
  assert.ok(!disabledIds(off).has(HELSINKI), off);
});

test('an entry added or changed keeps the file\'s layout: one-line neighbours, its indentation and line ends', () => {
  // Compact one-line overrides, as people write them: the neighbour stays on its line, the new entry joins in kind.
  assert.equal(
    switched('{\n  "sites": [\n    { "id": "together/us/h100", "concurrency": 3 }\n  ]\n}\n', HELSINKI, true),
    `{\n  "sites": [\n    { "id": "together/us/h100", "concurrency": 3 },\n    { "id": "${HELSINKI}", "disabled": true }\n  ]\n}\n`,
  );
  // All on one line: only the site's own entry changes.
  assert.equal(
    switched(`{ "sites": [ { "id": "a/b/c", "concurrency": 3 }, { "id": "${HELSINKI}", "concurrency": 2 } ] }`, HELSINKI, true),
    `{ "sites": [ { "id": "a/b/c", "concurrency": 3 }, { "id": "${HELSINKI}", "concurrency": 2, "disabled": true } ] }`,
  );
  assert.equal(
    switched('{ "sites": [ { "id": "a/b/c", "concurrency": 3 } ] }', HELSINKI, true),
    `{ "sites": [ { "id": "a/b/c", "concurrency": 3 }, { "id": "${HELSINKI}", "disabled": true } ] }`,
  );
  // Four spaces, multi-line entries.
  const four = '{\n    "sites": [\n        {\n            "id": "together/us/h100",\n            "concurrency": 2\n        }\n    ]\n}\n';
  assert.equal(
    switched(four, HELSINKI, true),
    `{\n    "sites": [\n        {\n            "id": "together/us/h100",\n            "concurrency": 2\n        },\n        {\n            "id": "${HELSINKI}",\n            "disabled": true\n        }\n    ]\n}\n`,
  );
  // Tabs and CRLF, the site's own multi-line entry.
  const tabs = `{\r\n\t"sites": [\r\n\t\t{\r\n\t\t\t"id": "${HELSINKI}",\r\n\t\t\t"concurrency": 2\r\n\t\t}\r\n\t]\r\n}\r\n`;
  assert.equal(switched(tabs, HELSINKI, true), `{\r\n\t"sites": [\r\n\t\t{\r\n\t\t\t"id": "${HELSINKI}",\r\n\t\t\t"concurrency": 2,\r\n\t\t\t"disabled": true\r\n\t\t}\r\n\t]\r\n}\r\n`);
  // An empty list in a tab-indented file takes tabs.
  assert.equal(switched('{\n\t"sites": []\n}\n', HELSINKI, true), `{\n\t"sites": [\n\t\t{\n\t\t\t"id": "${HELSINKI}",\n\t\t\t"disabled": true\n\t\t}\n\t]\n}\n`);
  // Every result is what the daemon reads as the site switched off.
  for (const text of [four, tabs]) assert.ok(disabledIds(switched(text, HELSINKI, true)).has(HELSINKI));
});

test('a site id with characters JSON escapes is written and found again as the same id', () => {
  const odd = 'local/eu "west"\\1/a100';
  const off = switched('{ "sites": [] }', odd, true);
  assert.deepEqual(JSON.parse(off).sites, [{ id: odd, disabled: true }]);
  assert.deepEqual(JSON.parse(switched(off, odd, false)).sites, [{ id: odd, disabled: false }]);
});
