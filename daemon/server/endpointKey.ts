// The key other tools use for the OpenAI-compatible endpoint and /metrics. The daemon's token changes
// with every start, so a tool configured with it (aider, Continue, a script) stopped working at the
// next restart; this key is kept in the state dir (mode 0600, like daemon.json) and stays. Deleting
// the file revokes it: the next start makes a new one. It opens HTTP routes only, never /rpc.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ENDPOINT_KEY_FILE = 'endpoint-key';
const KEY = /^sk-switchyard-[A-Za-z0-9_-]{43}$/;

export interface EndpointKey {
  key: string;
  file: string;
  /** Why a new key was made, when one was: no file yet, or what was there was not a key. */
  created?: string;
}

export function loadEndpointKey(stateDir: string): EndpointKey {
  const file = path.join(stateDir, ENDPOINT_KEY_FILE);
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined && KEY.test(text)) {
    // Loosened by hand or by a copy: the key is a secret, readable by the user only.
    if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    return { key: text, file };
  }
  const key = `sk-switchyard-${crypto.randomBytes(32).toString('base64url')}`;
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${key}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
  return { key, file, created: text === undefined ? 'no key yet' : 'the file held no valid key' };
}
