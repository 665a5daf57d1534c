// The editor flows: the real extension in a real VS Code (code-server) driven through Chromium.
// Run by scripts/editor-tests.mjs, in this order; each gets `ctx` (see that script) and a timeout.
// The first four share one editor window with the extension loaded from source.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pidAlive } from '../../scripts/editor-server.mjs';
import { assert, runCommand, statusItem, until, waitForDaemon, waitForStatus, waitForWorkbench } from './workbench.mjs';

const CONNECTED = /Switchyard: connected/;

/** @type {{ name: string, title: string, timeoutMs: number, run: (ctx: any) => Promise<any> }[]} */
export const flows = [
  {
    name: 'activation',
    title: 'activates on startup and the status bar shows "Switchyard: connected"',
    timeoutMs: 120_000,
    async run(ctx) {
      const { page, stateDir } = await ctx.devEditor();
      await waitForWorkbench(page);
      try {
        await waitForStatus(page, /Switchyard/, { timeoutMs: 60_000 });
      } catch (error) {
        throw new Error(`${error.message}. Did the extension load? See test-results/editor/code-server-dev.log`);
      }
      await waitForStatus(page, CONNECTED, { timeoutMs: 60_000 });
      const state = await waitForDaemon(stateDir, { timeoutMs: 10_000 });
      ctx.trackDaemon(state.pid);
      for (const key of ['port', 'pid', 'token', 'version']) assert(key in state, `daemon.json has no "${key}": ${JSON.stringify(Object.keys(state))}`);
      const mode = fs.statSync(path.join(stateDir, 'daemon.json')).mode & 0o777;
      assert(mode === 0o600, `daemon.json has mode ${mode.toString(8)}, expected 600`);
      await ctx.screenshot('activation', page);
      await ctx.screenshot('activation-statusbar', statusItem(page));
      ctx.note(`daemon pid ${state.pid} on port ${state.port}, version ${state.version}`);
    },
  },
  {
    name: 'reconnect-after-kill',
    title: 'after the daemon is killed (SIGKILL) the extension starts a new one and reconnects',
    timeoutMs: 90_000,
    async run(ctx) {
      const { page, stateDir } = await ctx.devEditor();
      await waitForStatus(page, CONNECTED);
      const before = await waitForDaemon(stateDir);
      ctx.trackDaemon(before.pid);
      process.kill(before.pid, 'SIGKILL');
      await until(`killed daemon pid ${before.pid} to be gone`, () => !pidAlive(before.pid), { timeoutMs: 10_000 });
      const after = await waitForDaemon(stateDir, { notPid: before.pid, timeoutMs: 60_000 });
      ctx.trackDaemon(after.pid);
      // Connected again, and (when the item names its daemon's pid) to the new daemon, not the dead one.
      await waitForStatus(page, CONNECTED, { timeoutMs: 60_000, accept: (s) => !new RegExp(`\\bpid ${before.pid}\\b`).test(s.label) });
      await ctx.screenshot('reconnect-after-kill', page);
      ctx.note(`daemon pid ${before.pid} killed; new daemon pid ${after.pid}`);
    },
  },
  {
    name: 'restart-command',
    title: '"Switchyard: Restart Daemon" from the command palette starts a new daemon and reconnects',
    timeoutMs: 90_000,
    async run(ctx) {
      const { page, stateDir } = await ctx.devEditor();
      await waitForStatus(page, CONNECTED);
      const before = await waitForDaemon(stateDir);
      ctx.trackDaemon(before.pid);
      const attempts = await runCommand(page, 'Switchyard: Restart Daemon');
      const after = await waitForDaemon(stateDir, { notPid: before.pid, timeoutMs: 60_000 });
      ctx.trackDaemon(after.pid);
      await waitForStatus(page, CONNECTED, { timeoutMs: 60_000, accept: (s) => !new RegExp(`\\bpid ${before.pid}\\b`).test(s.label) });
      await ctx.screenshot('restart-command', page);
      const old = pidAlive(before.pid) ? `; the old daemon ${before.pid} is still running` : '';
      ctx.note(`command ran on attempt ${attempts}; daemon pid ${before.pid} -> ${after.pid}${old}`);
    },
  },
  {
    name: 'show-logs',
    title: '"Switchyard: Show Logs" opens the "Switchyard" output channel',
    timeoutMs: 60_000,
    async run(ctx) {
      const { page } = await ctx.devEditor();
      await runCommand(page, 'Switchyard: Show Logs');
      const panel = page.locator('#workbench\\.parts\\.panel');
      await panel.waitFor({ state: 'visible', timeout: 15_000 });
      const editor = panel.locator('.monaco-editor[data-uri^="output:"]').first();
      await editor.waitFor({ state: 'visible', timeout: 15_000 });
      await until('the output view to show the "Switchyard" channel', async () => {
        const selected = await panel.locator('select[aria-label="Switch Output"]').first()
          .evaluate((el) => el.options[el.selectedIndex]?.text).catch(() => undefined);
        const uri = await editor.getAttribute('data-uri');
        return selected === 'Switchyard' || /Switchyard/.test(uri ?? '') ? true : undefined;
      }, { timeoutMs: 15_000 });
      await until('log lines in the Switchyard output', async () => ((await editor.locator('.view-line').count()) > 0) || undefined, { timeoutMs: 15_000 });
      await ctx.screenshot('show-logs', page);
    },
  },
  {
    name: 'extension-host-suite',
    title: 'mocha suite inside the extension host (test/editor/suite)',
    timeoutMs: 150_000,
    async run(ctx) {
      await ctx.closeDevPage();
      const suite = path.join(ctx.root, 'dist', 'test', 'suite.js');
      assert(fs.existsSync(suite), `${suite} is missing: build with node scripts/build.mjs`);
      const { page, results, exitCode } = await ctx.runExtensionTests(suite);
      await ctx.screenshot('extension-host-suite', page).catch(() => {});
      return { subtests: results, exitCode };
    },
  },
  {
    name: 'packaged-vsix',
    title: 'npm run package builds switchyard.vsix; installed in code-server it connects without the dev payload',
    timeoutMs: 240_000,
    async run(ctx) {
      const vsix = path.join(ctx.root, 'switchyard.vsix');
      fs.rmSync(vsix, { force: true });
      try {
        const packaged = spawnSync('npm', ['run', 'package'], { cwd: ctx.root, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] });
        fs.writeFileSync(path.join(ctx.resultsDir, 'npm-run-package.log'), `${packaged.stdout}\n${packaged.stderr}`);
        assert(packaged.status === 0, `npm run package failed (${packaged.status ?? packaged.error?.message}); see test-results/editor/npm-run-package.log\n${(packaged.stderr || '').slice(-1500)}`);
      } finally {
        ctx.rebuildDev(); // `npm run package` leaves a production build in dist/: put the dev build back
      }
      assert(fs.existsSync(vsix), 'npm run package did not produce switchyard.vsix');
      // What the package ships (.vscodeignore): the manifest, readme/licence/changelog, dist/, media/.
      const listing = spawnSync('npx', ['--no-install', 'vsce', 'ls', '--no-dependencies'], { cwd: ctx.root, encoding: 'utf8', timeout: 60_000 });
      assert(listing.status === 0, `vsce ls failed: ${listing.stderr}`);
      const files = listing.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      const allowed = /^(package\.json|(README|CHANGELOG|LICENSE)(\.\w+)?|dist\/(?!test\/).*(?<!\.map)|media\/.*(?<!\.ts))$/;
      const unexpected = files.filter((f) => !allowed.test(f));
      assert(files.includes('dist/extension.js') && files.includes('dist/daemon.js'), `the package lacks dist/: ${files.join(', ')}`);
      assert(unexpected.length === 0, `the package ships files it should not (fix .vscodeignore): ${unexpected.join(', ')}`);
      const { page, stateDir, listed } = await ctx.packagedEditor(vsix);
      assert(listed.some((line) => /^switchyard\.switchyard@/.test(line)), `the installed extensions are ${JSON.stringify(listed)}`);
      await waitForWorkbench(page);
      await waitForStatus(page, CONNECTED, { timeoutMs: 90_000 });
      const state = await waitForDaemon(stateDir, { timeoutMs: 10_000 });
      ctx.trackDaemon(state.pid);
      const title = await page.title();
      assert(!/Extension Development Host/.test(title), `the window runs in development mode ("${title}")`);
      await ctx.screenshot('packaged-vsix', page);
      ctx.note(`${listed.join(', ')}; vsix ${(fs.statSync(vsix).size / 1e6).toFixed(2)} MB; daemon pid ${state.pid}`);
    },
  },
];
