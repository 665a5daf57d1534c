// Small helpers for driving the VS Code workbench with Playwright (used by test/editor/flows.mjs).

import { pidAlive, readDaemonState, sleep } from '../../scripts/editor-server.mjs';

export const STATUS_ITEMS = '#workbench\\.parts\\.statusbar .statusbar-item';

/** Polls `probe` until it returns something other than undefined/false/null. */
export async function until(what, probe, { timeoutMs = 30_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export async function waitForWorkbench(page, timeoutMs = 60_000) {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('#workbench\\.parts\\.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
}

/** The Switchyard status bar item: its accessible label always starts with "Switchyard:" (its text may be just the spend). */
export function statusItem(page) {
  return page.locator(`${STATUS_ITEMS}[aria-label^="Switchyard"]`).first();
}

/**
 * Text, accessible label and background of the Switchyard status bar item, or undefined. Once
 * connected the text is the spend (`$0.42 / $5.00`) and the label says "Switchyard: connected ...".
 */
export async function readStatus(page) {
  return page.evaluate((selector) => {
    const items = [...document.querySelectorAll(selector)];
    const item = items.find((el) => (el.getAttribute('aria-label') || '').startsWith('Switchyard'))
      ?? items.find((el) => (el.textContent || '').includes('Switchyard'));
    if (!item) return undefined;
    return {
      text: (item.textContent || '').trim(),
      label: item.getAttribute('aria-label') || '',
      background: getComputedStyle(item).backgroundColor,
      classes: item.className,
    };
  }, STATUS_ITEMS);
}

/**
 * Starts recording each change of the Switchyard status bar item ({label, text}, consecutive repeats
 * dropped) from now on, for statusHistory: a state the item passes through is seen however briefly.
 */
export async function recordStatus(page) {
  await page.evaluate((selector) => {
    window.__switchyardStatusObserver?.disconnect();
    const seen = (window.__switchyardStatus = []);
    const read = () => {
      const item = [...document.querySelectorAll(selector)].find((el) => (el.getAttribute('aria-label') || '').startsWith('Switchyard'));
      const last = seen.at(-1);
      const now = item && { label: item.getAttribute('aria-label') || '', text: (item.textContent || '').trim() };
      if (now && (!last || last.label !== now.label || last.text !== now.text)) seen.push(now);
    };
    read();
    window.__switchyardStatusObserver = new MutationObserver(read);
    window.__switchyardStatusObserver.observe(document.querySelector('#workbench\\.parts\\.statusbar'), { subtree: true, childList: true, attributes: true, characterData: true });
  }, STATUS_ITEMS);
}

/** What the Switchyard status bar item showed since recordStatus, in order. */
export async function statusHistory(page) {
  return page.evaluate(() => window.__switchyardStatus ?? []);
}

/**
 * Waits until the Switchyard status bar item's text matches `pattern` (and `accept`, when given, agrees).
 * The error names what the item showed last.
 */
export async function waitForStatus(page, pattern, { timeoutMs = 60_000, accept } = {}) {
  let last;
  try {
    return await until(`the status bar to show ${pattern}`, async () => {
      last = await readStatus(page);
      return last && (pattern.test(last.text) || pattern.test(last.label)) && (!accept || accept(last)) ? last : undefined;
    }, { timeoutMs, intervalMs: 250 });
  } catch (error) {
    throw new Error(`${error.message}; it showed ${last ? `${JSON.stringify(last.text)} (${JSON.stringify(last.label)})` : 'no Switchyard item'}`);
  }
}

/**
 * Runs a command from the command palette by its full title ("Category: Title"). Right after
 * start-up the command may not be registered yet, so it retries.
 */
export async function runCommand(page, title, { attempts = 10 } = {}) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill(`>${title}`);
      const row = page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: 3000 });
      await page.keyboard.press('Enter');
      await input.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
      return attempt;
    } catch (error) {
      if (attempt >= attempts) {
        throw new Error(`command palette: "${title}" not found after ${attempts} attempts (${error.message.split('\n')[0]})`);
      }
      await sleep(1000);
    }
  }
}

/** Waits for a daemon.json with a live pid (other than `notPid`), and returns it. */
export async function waitForDaemon(stateDir, { notPid, timeoutMs = 60_000 } = {}) {
  return until(notPid ? `a new daemon (not pid ${notPid}) in ${stateDir}/daemon.json` : `a live daemon in ${stateDir}/daemon.json`, () => {
    const state = readDaemonState(stateDir);
    return state && state.pid !== notPid && pidAlive(state.pid) ? state : undefined;
  }, { timeoutMs });
}

/** The accessible label of the first list row (the Sites view's, say) that starts with `prefix` or matches it. */
export async function rowLabel(page, prefix) {
  const labels = await page.evaluate(() => [...document.querySelectorAll('.monaco-list-row')].map((r) => r.getAttribute('aria-label') ?? ''));
  return labels.find((l) => (typeof prefix === 'string' ? l.startsWith(prefix) : prefix.test(l)));
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * The frame of a webview whose document has `selector` (webviews are nested iframes in the
 * workbench). Returns a Playwright Frame.
 */
export async function webviewFrame(page, selector, { timeoutMs = 30_000 } = {}) {
  return until(`a webview with ${selector}`, async () => {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame() || frame.isDetached()) continue;
      const found = await frame.evaluate((s) => !!document.querySelector(s), selector).catch(() => false);
      if (found) return frame;
    }
    return undefined;
  }, { timeoutMs, intervalMs: 300 });
}

/** Picks an entry in an open quick pick by typing `text` and pressing Enter once a matching row is focused. */
export async function pickQuickItem(page, text, { timeoutMs = 15_000, match = text } = {}) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(text);
  await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: match }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  // On a busy machine an Enter can land while the widget is still settling and be lost; the next step
  // would then type into this (now inert) pick. Press again, but only while this very pick is still
  // showing with our item focused: a second Enter that lands on the next pick would accept its default.
  const label = await input.getAttribute('aria-label');
  const focused = page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: match }).first();
  const movedOn = async () => (await input.isHidden()) || (await input.getAttribute('aria-label')) !== label;
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('Enter');
    if (await until('the quick pick to move on', async () => ((await movedOn()) ? true : undefined), { timeoutMs: 8000 }).catch(() => false)) return;
    if (!(await input.isVisible()) || (await input.getAttribute('aria-label')) !== label || !(await focused.isVisible())) return;
  }
  throw new Error(`the quick pick "${label}" did not accept "${text}"`);
}

/** Types into an open input box and presses Enter. */
export async function answerInputBox(page, text, { timeoutMs = 15_000 } = {}) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await until('an editable input box', async () => ((await input.isEditable()) ? true : undefined), { timeoutMs });
  await input.fill(text);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: timeoutMs }).catch(() => {});
}
