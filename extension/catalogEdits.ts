// Edits to the user's catalog file as text: a site switched off or back on by an override entry.
// Edits are minimal and written in the file's own style (indentation, line ends, one-line or multi-line
// entries), so the rest of the file keeps the user's layout.

import { modify, parseTree, printParseErrorCode, type Edit, type EditResult, type Node, type ParseError } from 'jsonc-parser';

/** The file's text cannot take the edit; the message completes "the catalog file ...". */
export class CatalogTextError extends Error {}

/** The catalog's root and its "sites" list (undefined: an empty file, or no list yet). */
function catalogTree(text: string): { root: Node | undefined; sites: Node | undefined } {
  if (text.trim() === '') return { root: undefined, sites: undefined };
  const errors: ParseError[] = [];
  // As strict as the daemon, which reads the file with JSON.parse.
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length > 0 || !root) {
    const offset = errors[0]?.offset ?? 0;
    const before = text.slice(0, offset).split('\n');
    const where = `line ${before.length}, column ${before[before.length - 1].length + 1}`;
    throw new CatalogTextError(`is not valid JSON (${printParseErrorCode(errors[0]?.error ?? 0)} at ${where}); fix it, then try again`);
  }
  if (root.type !== 'object') throw new CatalogTextError('must be an object with a "sites" list');
  const sites = lastValue(root, 'sites');
  if (sites !== undefined && sites.type !== 'array') throw new CatalogTextError('has "sites" that is not a list');
  return { root, sites };
}

/** The value of an object's property; the last one when it is named twice, as JSON.parse takes. */
function lastValue(object: Node, key: string): Node | undefined {
  const props = (object.children ?? []).filter((p) => p.children?.[0]?.value === key);
  return props[props.length - 1]?.children?.[1];
}

interface Style {
  eol: string;
  /** One level of indentation. */
  unit: string;
}

/** The file's line ends and indentation unit (its first indented line's), so what is added looks like what is there. */
function styleOf(text: string): Style {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indented = /^[ \t]+(?=\S)/m.exec(text)?.[0];
  return { eol, unit: indented === undefined ? '  ' : indented.startsWith('\t') ? '\t' : indented };
}

/** How a new item follows `last`: on a line of its own at the same indentation, or on the same line. */
function after(text: string, last: Node): { ownLine: boolean; indent: string } {
  const lineStart = Math.max(text.lastIndexOf('\n', last.offset - 1) + 1, 0);
  const indent = text.slice(lineStart, last.offset);
  return { ownLine: /^[ \t]*$/.test(indent), indent };
}

/**
 * The edits that switch `siteId` (a real id: entries never name a twin) off with `"disabled": true`,
 * or back on with `"disabled": false`. On is written out rather than the entry removed: only the
 * daemon knows whether the built-in fleet ships the site switched off, and then without the entry its
 * `true` would apply again.
 */
export function siteSwitchEdits(text: string, siteId: string, disabled: boolean): EditResult {
  const { sites } = catalogTree(text);
  const style = styleOf(text);
  const elements = sites?.children ?? [];
  if (elements.length === 0) {
    // Nothing of the user's around the insertion to keep: jsonc-parser lays it out, in the file's style.
    const formattingOptions = { insertSpaces: style.unit !== '\t', tabSize: style.unit === '\t' ? 1 : style.unit.length, eol: style.eol };
    return modify(text, ['sites', -1], { id: siteId, disabled }, { formattingOptions, isArrayInsertion: true });
  }
  // The daemon applies entries in order, each over the one before: the last entry naming the site decides.
  const entry = [...elements].reverse().find((e) => e.type === 'object' && lastValue(e, 'id')?.value === siteId);
  if (!entry) {
    const last = elements[elements.length - 1];
    const { ownLine, indent } = after(text, last);
    const multiLine = ownLine && text.slice(last.offset, last.offset + last.length).includes('\n');
    const fields = [`"id": ${JSON.stringify(siteId)}`, `"disabled": ${disabled}`];
    const value = multiLine
      ? `{${style.eol}${fields.map((f) => `${indent}${style.unit}${f}`).join(`,${style.eol}`)}${style.eol}${indent}}`
      : `{ ${fields.join(', ')} }`;
    return [insertion(last, ownLine ? `,${style.eol}${indent}${value}` : `, ${value}`)];
  }
  const current = lastValue(entry, 'disabled');
  if (current) return [{ offset: current.offset, length: current.length, content: String(disabled) }];
  const props = entry.children ?? [];
  const lastProp = props[props.length - 1];
  const { ownLine, indent } = after(text, lastProp);
  return [insertion(lastProp, `${ownLine ? `,${style.eol}${indent}` : ', '}"disabled": ${disabled}`)];
}

function insertion(after: Node, content: string): Edit {
  return { offset: after.offset + after.length, length: 0, content };
}
