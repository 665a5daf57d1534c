// The settings that choose which daemon, ledger and budgets a window uses are the user's, never a
// workspace's: a repository's .vscode/settings.json could otherwise move its windows to a state dir of
// its own, out of reach of the caps that are meant to cover every workspace.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { expandHome } from '../../extension/daemonProcess';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
const settings: Record<string, { scope?: string }> = manifest.contributes.configuration.properties
  ?? Object.assign({}, ...manifest.contributes.configuration.map((c: { properties: object }) => c.properties));

test('the daemon\'s state dir, port, idle timeout, seed and the catalog file are machine settings', () => {
  for (const key of ['switchyard.daemon.stateDir', 'switchyard.daemon.port', 'switchyard.daemon.idleTimeoutSeconds', 'switchyard.daemon.simulationSeed', 'switchyard.catalogFile']) {
    assert.equal(settings[key]?.scope, 'machine', key);
  }
});

test('a setting\'s path may start at the home folder, as in a shell', () => {
  assert.equal(expandHome('~/state/sy', '/home/ada'), path.join('/home/ada', 'state/sy'));
  assert.equal(expandHome('~', '/home/ada'), '/home/ada');
  assert.equal(expandHome('/var/sy', '/home/ada'), '/var/sy');
  assert.equal(expandHome('~other/sy', '/home/ada'), '~other/sy', 'another user\'s home is not guessed');
});
