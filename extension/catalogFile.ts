// "Edit Catalog File": the user's catalog file opened from the palette or the Sites view, created (and
// named in the settings) on first use, so adding a site or overriding a price starts in the editor
// with the schema's completion rather than in the docs.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { CatalogTextError, siteSwitchEdits } from './catalogEdits';
import { catalogFileSetting, SECTION } from './config';

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

/** The catalog file, created first when the setting is empty or names a file not there yet. */
async function catalogFile(): Promise<{ file: string; created: boolean }> {
  const named = catalogFileSetting();
  const file = named ?? defaultCatalogPath();
  let created = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // 'wx': never over a file that appeared meanwhile.
    fs.writeFileSync(file, CATALOG_SKELETON, { flag: 'wx' });
    created = true;
  }
  // The file exists before the daemon hears of it, so its first load finds a valid catalog.
  if (!named) await vscode.workspace.getConfiguration(SECTION).update('catalogFile', file, vscode.ConfigurationTarget.Global);
  return { file, created };
}

/** Opens the catalog file (see catalogFile). Returns its path. */
export async function editCatalogFile(): Promise<string> {
  const { file, created } = await catalogFile();
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  if (created) {
    void vscode.window.showInformationMessage(`Switchyard: created ${file}. Add sites or override prices and limits here; each save reloads the catalog, and a mistake is refused with the previous catalog kept.`);
  }
  return file;
}

/** How often an override is computed and offered again when the editor refuses it as stale. */
const EDIT_ATTEMPTS = 3;

/**
 * Switches a site off or back on with an override in the catalog file, edited through its document so
 * that unsaved changes in an open editor are kept and undo works, then saved (the daemon reloads).
 */
export async function switchSite(siteId: string, disabled: boolean): Promise<string> {
  const { file } = await catalogFile();
  const doc = await vscode.workspace.openTextDocument(file);
  // An edit carries the document version it was computed from, and the editor refuses it when the text
  // moved on meanwhile (the user typing, a change this side has not heard of yet): compute it again.
  for (let attempt = 1; !(await vscode.workspace.applyEdit(switchEdit(doc, file, siteId, disabled))); attempt++) {
    if (attempt === EDIT_ATTEMPTS) throw new Error(`the catalog file ${file} kept changing while the override was written; try again`);
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
  if (!(await doc.save())) throw new Error(`the override is in the catalog file ${file} but it could not be saved; save it to apply the change`);
  return file;
}

function switchEdit(doc: vscode.TextDocument, file: string, siteId: string, disabled: boolean): vscode.WorkspaceEdit {
  let edits;
  try {
    edits = siteSwitchEdits(doc.getText(), siteId, disabled);
  } catch (error) {
    if (error instanceof CatalogTextError) throw new Error(`the catalog file ${file} ${error.message}`);
    throw error;
  }
  const edit = new vscode.WorkspaceEdit();
  for (const e of edits) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
  return edit;
}
