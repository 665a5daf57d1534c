// "Edit Catalog File": the user's catalog file opened from the palette or the Sites view, created (and
// named in the settings) on first use, so adding a site or overriding a price starts in the editor
// with the schema's completion rather than in the docs.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { SECTION } from './config';

/** Matches the `*.switchyard-catalog.json` pattern that package.json ties to the catalog schema. */
const FILE_NAME = 'sites.switchyard-catalog.json';

/** An empty catalog: valid as it is, so creating it changes nothing until the user adds an entry. */
const CATALOG_SKELETON = '{\n  "sites": []\n}\n';

/** Where a new catalog file goes: $XDG_CONFIG_HOME/switchyard, else ~/.config/switchyard (as the daemon's state dir follows XDG). */
function defaultCatalogPath(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config');
  return path.join(base, 'switchyard', FILE_NAME);
}

/** Opens the catalog file; creates it first when the setting is empty or names a file not there yet. Returns its path. */
export async function editCatalogFile(): Promise<string> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const named = config.get<string>('catalogFile')?.trim();
  const file = named || defaultCatalogPath();
  let created = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // 'wx': never over a file that appeared meanwhile.
    fs.writeFileSync(file, CATALOG_SKELETON, { flag: 'wx' });
    created = true;
  }
  // The file exists before the daemon hears of it, so its first load finds a valid catalog.
  if (!named) await config.update('catalogFile', file, vscode.ConfigurationTarget.Global);
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  if (created) {
    void vscode.window.showInformationMessage(`Switchyard: created ${file}. Add sites or override prices and limits here; each save reloads the catalog, and a mistake is refused with the previous catalog kept.`);
  }
  return file;
}
