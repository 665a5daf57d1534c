// The prompt panel host's decisions that need no editor (panel.ts holds the webview and the vscode
// calls), so the unit tests can run them.

import { ErrorCodes as RpcErrorCodes } from 'vscode-jsonrpc';
import { checkWebviewMessage } from '../media/messageChecks';
import { COMMAND_WITH_ARGS, type PanelState, type WebviewMessage } from '../media/messages';
import { inFlight, isFinal } from '../media/panelState';

/** A message from the webview the host acts on, or why it is ignored (the host logs it). */
export function admit(state: PanelState, raw: unknown): { message: WebviewMessage } | { ignored: string } {
  const checked = checkWebviewMessage(raw);
  if ('problem' in checked) return { ignored: checked.problem };
  const m = checked.message;
  if (m.type === 'command' && m.args?.length && m.command !== COMMAND_WITH_ARGS) return { ignored: `arguments for ${m.command}, which takes none from the panel` };
  // One answer at a time. The webview refuses a second prompt too, but it learns of a turn only when
  // the host's turnStarted comes back: a double click on Send or "run here" gets here twice.
  if (m.type === 'send' && inFlight(state)) return { ignored: 'a prompt sent while an answer is still in flight' };
  return { message: m };
}

/**
 * How to stop a turn's answer: its request, or, while it is being placed and has no request id yet,
 * as soon as the daemon names one. Null when there is nothing to stop: the answer is over (a webview
 * a step behind may still ask) or the turn is unknown.
 */
export function stopPlan(state: PanelState, turnId: string): { requestId: string } | 'when placed' | null {
  const turn = state.turns.find((t) => t.id === turnId);
  if (!turn || isFinal(turn)) return null;
  return turn.requestId ? { requestId: turn.requestId } : 'when placed';
}

/**
 * The answers the user stopped, as the daemon is to stop them: at once when it has named the request,
 * else as soon as it does. The turn itself reads cancelled from the moment of the Stop (the reducer);
 * this is only what the daemon must still be told, as a request placed for nobody is billed.
 */
export class Stops {
  private readonly whenPlaced = new Set<string>();

  constructor(private readonly cancel: (requestId: string) => void) {}

  /** Stops the turn's request as `state` knew it when the Stop came (before the cancel is applied to it). */
  stop(state: PanelState, turnId: string): void {
    const plan = stopPlan(state, turnId);
    if (plan === 'when placed') this.whenPlaced.add(turnId);
    else if (plan) this.cancel(plan.requestId);
  }

  /** The daemon named the turn's request: stopped now if the user stopped it while it was placed. */
  placed(turnId: string, requestId: string): void {
    if (this.whenPlaced.delete(turnId)) this.cancel(requestId);
  }

  /** The request was refused or never sent: nothing will be named to stop. */
  forget(turnId: string): void {
    this.whenPlaced.delete(turnId);
  }
}

/** The codes vscode-jsonrpc and the language client reject a request with when no answer came back. */
const NO_ANSWER = new Set<number>([RpcErrorCodes.MessageWriteError, RpcErrorCodes.MessageReadError, RpcErrorCodes.PendingResponseRejected, RpcErrorCodes.ConnectionInactive]);

/**
 * Whether a request that failed never had the daemon's answer (not connected, the socket closed under
 * it, the client stopped), rather than being refused. Told by the code, not the words: a refusal may
 * quote another link's failure, as the team ledger's does ("... is unreachable (Connection terminated
 * unexpectedly)"), and "restart the daemon, nothing was sent" would then be the wrong advice.
 */
export function neverAnswered(response: { code: number } | undefined): boolean {
  return !response || NO_ANSWER.has(response.code);
}

/** VS Code's language ids for the fence names answers use where the two differ. */
const LANGUAGE_IDS = new Map(Object.entries({
  ts: 'typescript', tsx: 'typescriptreact', js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'javascriptreact',
  py: 'python', sh: 'shellscript', bash: 'shellscript', shell: 'shellscript', zsh: 'shellscript', rs: 'rust', rb: 'ruby',
  yml: 'yaml', md: 'markdown', svg: 'xml', cs: 'csharp', 'c#': 'csharp', kt: 'kotlin', golang: 'go', 'c++': 'cpp',
  ps1: 'powershell', pwsh: 'powershell', objc: 'objective-c', text: 'plaintext',
}));

/** The language of a new document for a code block's fence name (a Map: "constructor" is a fence name too). */
export function languageId(fence: string): string {
  const name = fence.toLowerCase();
  return LANGUAGE_IDS.get(name) ?? name;
}
