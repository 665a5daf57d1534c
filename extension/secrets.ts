// API keys and the team's Redis URL (which may carry its password): kept in the editor's SecretStorage,
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
const TEAM_URL = 'switchyard.team.telemetryUrl';

export class Keys {
  constructor(private readonly secrets: vscode.SecretStorage, private readonly log: vscode.LogOutputChannel) {}

  async stored(): Promise<proto.ProviderId[]> {
    const out: proto.ProviderId[] = [];
    for (const p of KEYED_PROVIDERS) if (await this.secrets.get(secretKey(p.id))) out.push(p.id);
    return out;
  }

  async set(provider: proto.ProviderId, apiKey: string, client: LanguageClient | undefined): Promise<void> {
    await this.secrets.store(secretKey(provider), apiKey);
    if (client) await client.sendRequest(proto.setCredentials, { provider, apiKey });
    this.log.info(`API key for ${provider} stored`);
  }

  async remove(provider: proto.ProviderId, client: LanguageClient | undefined): Promise<void> {
    await this.secrets.delete(secretKey(provider));
    if (client) await client.sendRequest(proto.setCredentials, { provider, apiKey: null });
    this.log.info(`API key for ${provider} removed`);
  }

  /** Every stored key to a freshly connected daemon. */
  async sendAll(client: LanguageClient): Promise<void> {
    for (const p of KEYED_PROVIDERS) {
      const apiKey = await this.secrets.get(secretKey(p.id));
      if (!apiKey) continue;
      try {
        await client.sendRequest(proto.setCredentials, { provider: p.id, apiKey });
      } catch (error) {
        this.log.warn(`sending the ${p.id} key to the daemon failed: ${(error as Error).message}`);
      }
    }
  }

  async teamUrl(): Promise<string | undefined> {
    return this.secrets.get(TEAM_URL);
  }

  /** Shares site telemetry through the team's Redis at `url`, or stops (null); a bad URL is refused before anything is stored. */
  async setTeam(url: string | null, client: LanguageClient | undefined): Promise<proto.TeamStatus | undefined> {
    // Checked here too: with no daemon connected, nothing else would stop a bad URL being stored.
    const problem = url === null ? null : teamUrlProblem(url);
    if (problem) throw new Error(`the URL ${problem}`);
    const status = client ? await client.sendRequest(proto.setTeam, { telemetryUrl: url }) : undefined;
    if (url === null) await this.secrets.delete(TEAM_URL);
    else await this.secrets.store(TEAM_URL, url);
    this.log.info(url === null ? 'team telemetry stopped' : `team telemetry set (${status?.server ?? 'sent at the next connect'})`);
    return status;
  }

  /** The stored team URL to a freshly connected daemon. */
  async sendTeam(client: LanguageClient): Promise<void> {
    const url = await this.teamUrl();
    if (!url) return;
    await client.sendRequest(proto.setTeam, { telemetryUrl: url }).catch((error: Error) => this.log.warn(`sharing telemetry with the team failed: ${error.message}`));
  }
}
