// The messages between the prompt panel / spend view webviews and the extension host. Both sides
// import this file; the webview never talks to the daemon, only to the host through these shapes.

import type { Attempt, ChatAttemptParams, ChatMessage, Placement, Policy, Receipt, SiteRef, SpendSummary, TeamLedgerStatus } from '../daemon/protocol';
import type { ImageAttachment } from './images';

export interface ModelChoice {
  /** Canonical model id, e.g. "llama-3.3-70b". */
  id: string;
  /** Sites that offer it / of those, how many can be placed now (have a key, not disabled). */
  sites: number;
  available: number;
  /** Whether it can be sent images: at a site that can be placed now, only at a site that needs an API key, or nowhere. */
  images: 'yes' | 'with a key' | 'no';
}

export interface PolicyChoice {
  name: string;
  /** One line: what it optimises and its constraints. */
  summary: string;
}

/** An action the user can take from an error or an annotation; the host allows only these commands. */
export interface PanelAction {
  label: string;
  command: AllowedCommand;
  args?: string[];
}

export const ALLOWED_COMMANDS = [
  'switchyard.setBudget',
  'switchyard.setApiKey',
  'switchyard.switchPolicy',
  'switchyard.restartDaemon',
  'switchyard.showLogs',
  'switchyard.showSpend',
  'switchyard.setTeamBudget',
  'switchyard.connectTeamLedger',
] as const;
export type AllowedCommand = (typeof ALLOWED_COMMANDS)[number];

/**
 * The one command a panel button passes arguments to: the provider whose key Set API Key asks for.
 * The others ask the user what they need, as from the palette; from the webview, Set Budget's amount
 * or Connect Team Ledger's URL would change a cap or where the team's spend goes without asking.
 */
export const COMMAND_WITH_ARGS: AllowedCommand = 'switchyard.setApiKey';

export interface PanelError {
  kind: 'budget' | 'no-eligible-site' | 'no-key' | 'unreachable' | 'unknown-model' | 'upstream' | 'other';
  title: string;
  /** Plain sentences, each one line; the numbers and what to do. */
  detail: string[];
  actions: PanelAction[];
  /** Present for no-eligible-site / no-key: the candidates and why each was excluded. */
  placement?: Placement;
}

export interface PromptContext {
  fileName: string;
  language?: string;
  text: string;
  /** 1-based first and last line of the selection. */
  lines?: [number, number];
}

export type TurnStatus = 'placing' | 'streaming' | 'done' | 'cancelled' | 'error' | 'interrupted';

export interface Turn {
  id: string;
  prompt: string;
  context?: PromptContext;
  images?: ImageAttachment[];
  model: string;
  policy: string;
  status: TurnStatus;
  /** Host clock (ms since epoch) when the prompt was sent. */
  sentAt: number;
  requestId?: string;
  placement?: Placement;
  text: string;
  /** Measured by the host when the first delta arrived, until the receipt says. */
  firstTokenAt?: number;
  lastDeltaAt?: number;
  attempts: ChatAttemptParams[];
  receipt?: Receipt;
  error?: PanelError;
  /** "why here?" expanded. */
  showPlacement?: boolean;
  /** Asked again at a site chosen from "why here?": the id of the turn that first asked it. */
  rerunOf?: string;
}

/** What a prompt is sent with; while one is typed, the panel previews where the same would go. */
export interface Ask {
  prompt: string;
  model: string;
  policy: string;
  context?: PromptContext;
  images?: ImageAttachment[];
  history: ChatMessage[];
}

/** Where the prompt being typed would go now (`switchyard/previewChat`), or why it cannot be placed. */
export type Preview = { placement: Placement } | { error: string };

export interface PanelState {
  turns: Turn[];
  models: ModelChoice[];
  model: string;
  policies: PolicyChoice[];
  activePolicy: string;
  policyScope: 'workspace' | 'global';
  connected: boolean;
  /** Context waiting to go with the next prompt (Ask About Selection). */
  pendingContext?: PromptContext;
  /** Images waiting to go with the next prompt (pasted, dropped or picked). */
  pendingImages?: ImageAttachment[];
  draft: string;
  /** Where the draft would go if sent now; not kept across reloads. */
  preview?: Preview;
}

// ---------------------------------------------------------------------------------------------
// Host -> webview

export type HostMessage =
  | { type: 'restore'; state: PanelState }
  | { type: 'connection'; connected: boolean }
  | { type: 'models'; models: ModelChoice[]; preferred?: string }
  | { type: 'policies'; policies: PolicyChoice[]; active: string; scope: 'workspace' | 'global' }
  | { type: 'context'; context: PromptContext; prompt?: string }
  | { type: 'turnStarted'; turn: Turn }
  | { type: 'placed'; turnId: string; requestId: string; placement: Placement }
  | { type: 'delta'; turnId: string; text: string; at: number }
  | { type: 'attempt'; turnId: string; attempt: ChatAttemptParams }
  | { type: 'receipt'; turnId: string; receipt: Receipt }
  | { type: 'failed'; turnId: string; error: PanelError }
  | { type: 'cancelled'; turnId: string }
  | { type: 'cleared' }
  /** The answer to the latest preview asked (null: nothing to preview, or the daemon is away). */
  | { type: 'preview'; preview: Preview | null };

// ---------------------------------------------------------------------------------------------
// Webview -> host

export type WebviewMessage =
  | { type: 'ready' }
  | ({ type: 'send'; rerunOf?: string } & Ask)
  /** Where this would go if sent now: asked while the prompt is typed, or the model or policy changes. */
  | ({ type: 'askPreview' } & Ask)
  | { type: 'cancel'; turnId: string }
  | { type: 'setPolicy'; name: string }
  | { type: 'setModel'; model: string }
  | { type: 'togglePlacement'; turnId: string }
  | { type: 'dropContext' }
  | { type: 'attach'; images: ImageAttachment[] }
  | { type: 'detach'; index: number }
  /** A code block of an answer: to the clipboard, or into the editor the user was last in (at its selections). */
  | { type: 'copyCode'; text: string }
  | { type: 'insertCode'; text: string; language?: string }
  | { type: 'draft'; text: string }
  | { type: 'clear' }
  | { type: 'command'; command: AllowedCommand; args?: string[] };

// ---------------------------------------------------------------------------------------------
// Spend view

export type SpendHostMessage =
  /** `sites`: the catalog's sites by id, so the view can name a site rather than show its id. */
  | { type: 'spend'; summary: SpendSummary; workspace: string | null; sites: Record<string, SiteRef> }
  /** The team ledger's standing (state 'off': no team ledger, the section hides). */
  | { type: 'team'; ledger: TeamLedgerStatus }
  | { type: 'connection'; connected: boolean };

export type SpendWebviewMessage =
  | { type: 'ready' } | { type: 'export' } | { type: 'refresh' } | { type: 'setBudget' } | { type: 'setTeamBudget' }
  /** "why?" on a recent request: Switchyard: Show Placement with its id. */
  | { type: 'showPlacement'; id: string };

export type { Attempt, ImageAttachment, Policy };
