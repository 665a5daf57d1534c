// The shape checks on the messages between the prompt panel's webview and the host, before either
// side's reducer sees one: the reducer trusts its input, and a message of an unknown type would leave
// the state undefined. The webview renders model output, so the host takes nothing from it on trust.
// Shallow on purpose: what a message carries on to the daemon (the history) is checked there.

import type { ImageAttachment } from './images';
import { ALLOWED_COMMANDS, type HostMessage, type PromptContext, type WebviewMessage } from './messages';

type Check = (value: unknown) => boolean;

const string: Check = (v) => typeof v === 'string';
const number: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const boolean: Check = (v) => typeof v === 'boolean';
const object: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (item: Check): Check => (v) => Array.isArray(v) && v.every(item);
const optional = (check: Check): Check => (v) => v === undefined || check(v);
const oneOf = (values: readonly string[]): Check => (v) => typeof v === 'string' && values.includes(v);
const fields = (shape: Record<string, Check>): Check => (v) => object(v) && Object.entries(shape).every(([k, check]) => check((v as Record<string, unknown>)[k]));

const image = fields({ name: string, url: string, width: number, height: number });
const lines: Check = (v) => Array.isArray(v) && v.length === 2 && v.every(number);
// The host keeps it with the turn, and every webview it restores draws its file name and text.
const context = fields({ fileName: string, text: string, language: optional(string), lines: optional(lines) });
const ask = { prompt: string, model: string, policy: string, context: optional(context), images: optional(arrayOf(image)), history: arrayOf(object) };

/** An image attachment and a prompt's context as the panel keeps them: for reading a saved state back too. */
export const isImageAttachment = image as (v: unknown) => v is ImageAttachment;
export const isPromptContext = context as (v: unknown) => v is PromptContext;

const FROM_WEBVIEW: { [K in WebviewMessage['type']]: Record<string, Check> } = {
  ready: {},
  send: { ...ask, rerunOf: optional(string) },
  askPreview: ask,
  cancel: { turnId: string },
  setPolicy: { name: string },
  setModel: { model: string },
  togglePlacement: { turnId: string },
  dropContext: {},
  attach: { images: arrayOf(image) },
  detach: { index: number },
  copyCode: { text: string },
  insertCode: { text: string, language: optional(string) },
  draft: { text: string },
  clear: {},
  command: { command: oneOf(ALLOWED_COMMANDS), args: optional(arrayOf(string)) },
};

const FROM_HOST: { [K in HostMessage['type']]: Record<string, Check> } = {
  restore: { state: fields({ turns: arrayOf(fields({ id: string })) }) },
  connection: { connected: boolean },
  models: { models: arrayOf(object), preferred: optional(string) },
  policies: { policies: arrayOf(object), active: string, scope: oneOf(['workspace', 'global']) },
  context: { context: object, prompt: optional(string) },
  turnStarted: { turn: fields({ id: string }) },
  placed: { turnId: string, requestId: string, placement: object },
  delta: { turnId: string, text: string, at: number },
  attempt: { turnId: string, attempt: object },
  receipt: { turnId: string, receipt: object },
  failed: { turnId: string, error: object },
  cancelled: { turnId: string },
  cleared: {},
  preview: { preview: (v) => v === null || object(v) },
};

export type Checked<T> = { message: T } | { problem: string };

function check<T>(shapes: Record<string, Record<string, Check>>, raw: unknown): Checked<T> {
  if (!object(raw) || !string((raw as { type?: unknown }).type)) return { problem: 'not a message (no type)' };
  const message = raw as Record<string, unknown> & { type: string };
  // Own keys only: "constructor" or "toString" must not find Object's.
  const shape = Object.hasOwn(shapes, message.type) ? shapes[message.type] : undefined;
  if (!shape) return { problem: `unknown type "${message.type.slice(0, 40)}"` };
  const bad = Object.keys(shape).filter((k) => !shape[k](message[k]));
  return bad.length > 0 ? { problem: `"${message.type}" with a missing or malformed ${bad.join(', ')}` } : { message: raw as T };
}

/** A message from the webview, as the host takes it, or what is wrong with it. */
export function checkWebviewMessage(raw: unknown): Checked<WebviewMessage> {
  return check(FROM_WEBVIEW, raw);
}

/** A message from the host, as the webview takes it, or what is wrong with it. */
export function checkHostMessage(raw: unknown): Checked<HostMessage> {
  return check(FROM_HOST, raw);
}
