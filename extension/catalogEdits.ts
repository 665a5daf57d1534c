// Edits to the user's catalog file as text: a site switched off or back on by an override entry.
// jsonc-parser computes minimal edits, so the rest of the file keeps the user's layout.

import { modify, parse, printParseErrorCode, type EditResult, type ParseError } from 'jsonc-parser';

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } };

/** The file's text cannot take the edit; the message completes "the catalog file ...". */
export class CatalogTextError extends Error {}

type Entry = Record<string, unknown>;

function entries(text: string): Entry[] {
  if (text.trim() === '') return [];
  const errors: ParseError[] = [];
  // As strict as the daemon, which reads the file with JSON.parse.
  const root: unknown = parse(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length > 0) {
    const before = text.slice(0, errors[0].offset).split('\n');
    const where = `line ${before.length}, column ${before[before.length - 1].length + 1}`;
    throw new CatalogTextError(`is not valid JSON (${printParseErrorCode(errors[0].error)} at ${where}); fix it, then try again`);
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new CatalogTextError('must be an object with a "sites" list');
  const sites = (root as Entry).sites;
  if (sites === undefined) return [];
  if (!Array.isArray(sites)) throw new CatalogTextError('has "sites" that is not a list');
  return sites as Entry[];
}

/**
 * The edits that switch `siteId` (a real id: entries never name a twin) off with `"disabled": true`,
 * or back on with `"disabled": false`. On is written out rather than the entry removed: only the
 * daemon knows whether the built-in fleet ships the site switched off, and then without the entry its
 * `true` would apply again.
 */
export function siteSwitchEdits(text: string, siteId: string, disabled: boolean): EditResult {
  const sites = entries(text);
  const at = sites.findIndex((e) => typeof e === 'object' && e !== null && e.id === siteId);
  const entry = at >= 0 ? sites[at] : undefined;
  if (!entry) return modify(text, ['sites', -1], { id: siteId, disabled }, { ...FORMAT, isArrayInsertion: true });
  return modify(text, ['sites', at, 'disabled'], disabled, FORMAT);
}
