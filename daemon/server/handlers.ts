// Binds each switchyard/ method of the contract to the daemon's parts for one editor connection.

import type { Connection } from 'vscode-languageserver/node';
import * as proto from '../protocol';
import type { Daemon } from './daemon';

export function registerHandlers(connection: Connection, daemon: Daemon): void {
  connection.onRequest(proto.status, () => daemon.status());
}
