// API keys and the team's server URLs (which may carry passwords): kept in the editor's SecretStorage,
// sent to the daemon (which keeps them in memory only) on every (re)connect. Never written to settings
// or logs.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import * as proto from '../daemon/protocol';
import { teamUrlProblem } from '../daemon/team/url';

export const KEYED_PROVIDERS: { id: proto.ProviderId; label: string }[] = [
  { id: 'openai', label: 'OpenAI' },
  { id: 'azure-openai', label: 'Azure OpenAI' },
  { id: 'anthropic', label: 'Anthropic' },
  { id: 'google', label: 'Google (Gemini)' },
  { id: 'groq', label: 'Groq' },
  { id: 'together', label: 'Together AI' },
  { id: 'fireworks', label: 'Fireworks AI' },
  { id: 'mistral', label: 'Mistral' },
  { id: 'openrouter', label: 'OpenRouter' },
  { id: 'bedrock', label: 'AWS Bedrock' },
  { id: 'replicate', label: 'Replicate' },
  { id: 'openai-compatible', label: 'OpenAI-compatible endpoint' },
];

const secretKey = (provider: proto.ProviderId) => `switchyard.apiKey.${provider}`;
/** What can be shared with the team, by its setTeam field: where its URL is kept and which server it names. */
export const TEAM_PARTS = {
  telemetryUrl: { secret: 'switchyard.team.telemetryUrl', server: 'redis', name: 'telemetry' },
  ledgerUrl: { secret: 'switchyard.team.ledgerUrl', server: 'postgres', name: 'ledger' },
} as const;
export type TeamPart = keyof typeof TEAM_PARTS;

export class Keys {
  /**
   * Keys removed while no daemon heard it (not connected, or the connection dropped as it was told).
   * The daemon outlives this window's connection and serves every window: without being told at the
   * next connect, it would go on placing everyone's requests with the removed key.
   */
  private readonly unsentRemovals = new Set<proto.ProviderId>();

  constructor(private readonly secrets: vscode.SecretStorage, private readonly log: vscode.LogOutputChannel) {}

  async stored(): Promise<proto.ProviderId[]> {
    const out: proto.ProviderId[] = [];
    for (const p of KEYED_PROVIDERS) if (await this.secrets.get(secretKey(p.id))) out.push(p.id);
    return out;
  }

  async set(provider: proto.ProviderId, apiKey: string, client: LanguageClient | undefined): Promise<void> {
    await this.secrets.store(secretKey(provider), apiKey);
    this.unsentRemovals.delete(provider);
    if (client) await client.sendRequest(proto.setCredentials, { provider, apiKey });
    this.log.info(`API key for ${provider} stored`);
  }

  async remove(provider: proto.ProviderId, client: LanguageClient | undefined): Promise<void> {
    await this.secrets.delete(secretKey(provider));
    this.unsentRemovals.add(provider);
    if (client) {
      await client.sendRequest(proto.setCredentials, { provider, apiKey: null });
      this.unsentRemovals.delete(provider);
    }
    this.log.info(`API key for ${provider} removed`);
  }

  /** Every stored key to a freshly connected daemon, and the removals it has not heard of. */
  async sendAll(client: LanguageClient): Promise<void> {
    for (const p of KEYED_PROVIDERS) {
      const apiKey = await this.secrets.get(secretKey(p.id));
      const removed = !apiKey && this.unsentRemovals.has(p.id);
      if (!apiKey && !removed) continue;
      try {
        await client.sendRequest(proto.setCredentials, { provider: p.id, apiKey: apiKey || null });
        if (removed) this.unsentRemovals.delete(p.id);
      } catch (error) {
        this.log.warn(`${removed ? 'removing' : 'sending'} the ${p.id} key ${removed ? 'from' : 'to'} the daemon failed: ${(error as Error).message}`);
      }
    }
  }

  async teamUrl(part: TeamPart): Promise<string | undefined> {
    return this.secrets.get(TEAM_PARTS[part].secret);
  }

  /**
   * Shares a part with the team (site telemetry through its Redis, the ledger and budgets on its
   * PostgreSQL) at `url`, or stops it (null); a bad URL is refused before anything is stored.
   */
  async setTeam(part: TeamPart, url: string | null, client: LanguageClient | undefined): Promise<proto.TeamStatus | undefined> {
    const { secret, server, name } = TEAM_PARTS[part];
    // Checked here too: with no daemon connected, nothing else would stop a bad URL being stored.
    const problem = url === null ? null : teamUrlProblem(url, server);
    if (problem) throw new Error(`the URL ${problem}`);
    const status = client ? await client.sendRequest(proto.setTeam, { [part]: url }) : undefined;
    if (url === null) await this.secrets.delete(secret);
    else await this.secrets.store(secret, url);
    this.log.info(url === null ? `team ${name} stopped` : `team ${name} set (${status ? 'sent' : 'sent at the next connect'})`);
    return status;
  }

  /** The stored team URLs to a freshly connected daemon. */
  async sendTeam(client: LanguageClient): Promise<void> {
    const params: proto.SetTeamParams = {};
    for (const part of Object.keys(TEAM_PARTS) as TeamPart[]) {
      const url = await this.teamUrl(part);
      if (url) params[part] = url;
    }
    if (Object.keys(params).length === 0) return;
    await client.sendRequest(proto.setTeam, params).catch((error: Error) => this.log.warn(`sharing with the team failed: ${error.message}`));
  }
}
