// The in-extension-host test suite: `run()` is what VS Code calls for `extensionTestsPath` (the
// @vscode/test-electron contract). scripts/build.mjs bundles this file, mocha included, to
// dist/test/suite.js; scripts/editor-tests.mjs loads it into a real editor.
//
// Mocha's own file loading (require at run time) does not fit a bundle, so the test modules are
// imported statically and each registers its suites when called, after mocha's 'pre-require' has
// set up the BDD functions that `import { describe, it } from 'mocha'` forwards to.
//
// Every test result is also logged as one `SWITCHYARD-TEST {json}` line so the outer runner can
// report each test by name.

import Mocha from 'mocha';
import { registerCommandTests } from './commands.test';
import { registerExtensionTests } from './extension.test';
import { registerLanguageModelTests } from './languageModels.test';
import { registerSitesViewTests } from './sitesView.test';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'switchyard-editor-suite', mocha);
  registerExtensionTests();
  registerCommandTests();
  registerLanguageModelTests();
  registerSitesViewTests();

  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
    runner.on('pass', (test) => report({ title: test.fullTitle(), state: 'passed', ms: test.duration }));
    runner.on('fail', (test, error: Error) => report({ title: test.fullTitle(), state: 'failed', error: error?.stack ?? String(error) }));
  });
}

function report(result: { title: string; state: 'passed' | 'failed'; ms?: number; error?: string }): void {
  console.log(`SWITCHYARD-TEST ${JSON.stringify(result)}`);
}
