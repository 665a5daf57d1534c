// The team part of the daemon: whether, and where, this daemon shares site telemetry with its team's
// other daemons. Set from the editor (the URL is kept in its SecretStorage, as keys are) or from the
// environment of a standalone daemon; held in memory only.

import type { TeamStatus } from '../protocol';
import type { Redactor } from '../log/redact';
import type { SiteObservation } from '../engine/telemetry';
import { SharedTelemetry, type SharedTelemetryDeps } from './sharedTelemetry';
import { teamUrlProblem, teamUrlSecrets } from './url';

export const TEAM_URL_ENV = 'SWITCHYARD_TEAM_REDIS_URL';

const OFF: TeamStatus = { telemetry: 'off', server: null, peers: 0, published: 0, received: 0, error: null };

export class TeamProblem extends Error {}

export class Team {
  private shared: SharedTelemetry | null = null;
  private url: string | null = null;
  private readonly listeners = new Set<(status: TeamStatus) => void>();
  private readonly deps: SharedTelemetryDeps & { redactor: Redactor };

  constructor(deps: Omit<SharedTelemetryDeps, 'changed'> & { redactor: Redactor }) {
    this.deps = { ...deps, changed: () => this.changed() };
  }

  /** Told the status after each change (set, stopped, the link up or down). Returns an unsubscribe function. */
  onChange(listener: (status: TeamStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Shares through the Redis at `url`, or stops sharing (null). A bad URL throws TeamProblem and changes nothing. */
  async set(url: string | null): Promise<TeamStatus> {
    const problem = url === null ? null : teamUrlProblem(url);
    if (problem) throw new TeamProblem(`telemetryUrl ${problem}`);
    // Every window sends its stored URL when it (re)connects: the same URL keeps the link it has.
    if (url === this.url) return this.status();
    this.url = url;
    const previous = this.shared;
    this.shared = null;
    await previous?.close();
    if (url !== null) {
      for (const secret of teamUrlSecrets(url)) this.deps.redactor.add(secret);
      this.shared = new SharedTelemetry(url, this.deps);
      this.shared.start();
    }
    this.changed();
    return this.status();
  }

  publish(observation: SiteObservation): void {
    this.shared?.publish(observation);
  }

  status(): TeamStatus {
    return this.shared?.status() ?? OFF;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.shared?.close();
    this.shared = null;
    this.url = null;
  }

  private changed(): void {
    const status = this.status();
    for (const listener of this.listeners) listener(status);
  }
}
