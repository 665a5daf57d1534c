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
