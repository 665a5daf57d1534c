// The supervisor's decisions that need no editor (connection.ts holds the LanguageClient and the
// vscode events), so the unit tests can run them.

/** A socket as its close handler remembers it: the generation that opened it and the client on it. */
export interface OpenedSocket {
  generation: number;
  client: object;
}

/** The supervisor as the close finds it. */
export interface SupervisorNow {
  generation: number;
  /** The current client, undefined once let go. */
  client: object | undefined;
  /** The handshake finished: state `connected`. */
  connected: boolean;
  disposed: boolean;
}

/**
 * Whether a socket's close is the drop of the established connection, which the supervisor then tears
 * down and reconnects (restarting a daemon that died). No other close is: a connect attempt that fails
 * before its handshake finishes lets go of its own socket and its run loop retries, so acting on that
 * close as well would start a second loop (two clients, one never disposed, notifications handled on
 * the wrong one); and a superseded generation or a disposed supervisor has already let go.
 */
export function closeIsDrop(socket: OpenedSocket, now: SupervisorNow): boolean {
  return !now.disposed && now.connected && socket.generation === now.generation && socket.client === now.client;
}

/** The supervisor between connections: which attempt, and whether the user's Restart Daemon began it. */
export interface Connecting {
  attempt: number;
  restarting?: true;
}

/** What the status bar item says while not connected. */
export interface ConnectingView {
  text: string;
  tooltip: string;
  /** The accessible label: "Switchyard: …", never "connected" before the handshake is done. */
  label: string;
  /** A fault the user did not ask for (the connection dropped): the warning colour. */
  warning: boolean;
}

/**
 * Restarting from the moment it is asked for until the new daemon's handshake, however long the old one
 * takes to stop (it finishes its answers' receipts first, and is killed after 5 s); connecting at start;
 * disconnected, and reconnecting, after a connection dropped.
 */
export function connectingView(c: Connecting, wasConnected: boolean): ConnectingView {
  if (c.restarting) {
    const attempt = c.attempt > 0 ? ` (attempt ${c.attempt + 1})` : '';
    return {
      text: '$(sync~spin) Switchyard: restarting',
      tooltip: `Restarting the Switchyard daemon${attempt}: the old one stops, then a new one starts. Click for the logs.`,
      label: 'Switchyard: restarting the daemon, not connected',
      warning: false,
    };
  }
  const lost = wasConnected || c.attempt > 0;
  const why = lost ? `Disconnected from the Switchyard daemon; reconnecting (attempt ${c.attempt + 1})` : 'Connecting to the Switchyard daemon';
  return {
    text: lost ? '$(debug-disconnect) Switchyard: disconnected' : '$(sync~spin) Switchyard: connecting',
    tooltip: `${why}. Click for the logs.`,
    label: `Switchyard: ${lost ? 'disconnected, reconnecting' : 'connecting'}`,
    warning: lost,
  };
}
