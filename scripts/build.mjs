// Bundles the extension, the daemon, the webview scripts and the in-editor test suite with esbuild.
// `--production` minifies and drops source maps (what `npm run package` ships).
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
  define: { SWITCHYARD_VERSION: JSON.stringify(version) },
  // jsonc-parser's main is a UMD build whose factory requires its parts at run time, which a bundle
  // cannot resolve; its ES module build bundles.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
};

const builds = [
  { ...node, entryPoints: ['extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...node, entryPoints: ['daemon/main.ts'], outfile: 'dist/daemon.js' },
];
for (const entry of ['media/panel.ts', 'media/spend.ts']) {
  if (fs.existsSync(path.join(root, entry))) {
    builds.push({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: !production,
      minify: production, logLevel: 'warning', absWorkingDir: root, entryPoints: [entry],
      outfile: `dist/media/${path.basename(entry, '.ts')}.js` });
  }
}
if (!production && fs.existsSync(path.join(root, 'test/editor/suite/index.ts'))) {
  builds.push({
    ...node, entryPoints: ['test/editor/suite/index.ts'], outfile: 'dist/test/suite.js',
    // The test support modules import the setup script only to install a missing server; it runs as
    // itself (it reads import.meta), and from dist/test the same relative path reaches it.
    external: ['vscode', '../../scripts/editor-setup.mjs'],
    // mocha's parallel mode, which resolves its worker files at run time, is not used in the extension host.
    logOverride: { 'require-resolve-not-external': 'silent' },
  });
}

await Promise.all(builds.map((options) => esbuild.build(options)));

// Webview assets from packages (codicons, uPlot's stylesheet) and the catalog file's JSON Schema,
// which the manifest's jsonValidation points at, next to the bundles.
const assets = [
  ['daemon/catalog/catalog.schema.json', 'dist/catalog.schema.json'],
  ['node_modules/@vscode/codicons/dist/codicon.css', 'dist/media/codicon.css'],
  ['node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/media/codicon.ttf'],
  ['node_modules/uplot/dist/uPlot.min.css', 'dist/media/uPlot.min.css'],
];
fs.mkdirSync(path.join(root, 'dist', 'media'), { recursive: true });
for (const [from, to] of assets) fs.copyFileSync(path.join(root, from), path.join(root, to));
