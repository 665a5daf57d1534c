// API keys, in daemon memory only: set by the editor from its SecretStorage (switchyard/setCredentials)
// or read once from the daemon's environment when it runs by itself. A key set by the editor wins over
// the environment. Keys are handed to adapters per request (SiteRequest.apiKey) and to the log redactor;
// they are never written anywhere.

import type { ProviderId } from '../protocol';
import type { Site } from '../catalog/types';

/** Environment variables per provider, first found wins. */
export const KEY_ENV: Readonly<Partial<Record<ProviderId, readonly string[]>>> = {
  openai: ['OPENAI_API_KEY'],
  'azure-openai': ['AZURE_OPENAI_API_KEY', 'AZURE_API_KEY'],
  anthropic: ['ANTHROPIC_API_KEY'],
  google: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY'],
  groq: ['GROQ_API_KEY'],
  together: ['TOGETHER_API_KEY'],
  fireworks: ['FIREWORKS_API_KEY'],
  mistral: ['MISTRAL_API_KEY'],
  openrouter: ['OPENROUTER_API_KEY'],
  replicate: ['REPLICATE_API_TOKEN'],
  // A Bedrock API key (bearer token). Signed AWS credentials are read by the Bedrock adapter itself.
  bedrock: ['AWS_BEARER_TOKEN_BEDROCK'],
  'openai-compatible': ['OPENAI_COMPATIBLE_API_KEY'],
};

/** AWS credentials that make Bedrock usable without a bearer token. */
export const AWS_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION'] as const;

export class Credentials {
  private readonly keys = new Map<ProviderId, string>();
  private readonly listeners = new Set<(key: string, added: boolean) => void>();
  private awsSigned = false;

  /** Reads every provider's key variable; AWS access keys mark Bedrock as usable. */
  static fromEnv(env: Record<string, string | undefined>): Credentials {
    const creds = new Credentials();
    for (const [provider, names] of Object.entries(KEY_ENV) as [ProviderId, readonly string[]][]) {
      const value = names.map((n) => env[n]?.trim()).find((v) => v);
      if (value) creds.set(provider, value);
    }
    creds.awsSigned = Boolean(env.AWS_ACCESS_KEY_ID?.trim() && env.AWS_SECRET_ACCESS_KEY?.trim());
    return creds;
  }

  /** Called with every key added or removed, e.g. to register it with the log redactor. */
  onChange(listener: (key: string, added: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(provider: ProviderId, apiKey: string): void {
    const key = apiKey.trim();
    if (!key) return this.remove(provider);
    const before = this.keys.get(provider);
    if (before === key) return;
    this.keys.set(provider, key);
    if (before !== undefined && ![...this.keys.values()].includes(before)) this.emit(before, false);
    this.emit(key, true);
  }

  remove(provider: ProviderId): void {
    const before = this.keys.get(provider);
    if (before === undefined) return;
    this.keys.delete(provider);
    if (![...this.keys.values()].includes(before)) this.emit(before, false);
  }

  get(provider: ProviderId): string | undefined {
    return this.keys.get(provider);
  }

  /**
   * Whether sites of this provider can be placed. An OpenAI-compatible endpoint the user named (a local
   * vLLM, Ollama or llama.cpp) needs no key; if it does want one it answers 401, which names the site.
   */
  has(provider: ProviderId): boolean {
    return this.keys.has(provider) || (provider === 'bedrock' && this.awsSigned) || provider === 'openai-compatible' || provider === 'simulated';
  }

  /** Providers with a key, sorted (the setCredentials result). */
  providers(): ProviderId[] {
    const out = new Set(this.keys.keys());
    if (this.awsSigned) out.add('bedrock');
    return [...out].sort();
  }

  /** Every key held, for the redactor. */
  secrets(): string[] {
    return [...new Set(this.keys.values())];
  }

  /** The key for a request to this site, if any. */
  forSite(site: Site): string | undefined {
    return this.keys.get(site.provider);
  }

  private emit(key: string, added: boolean): void {
    for (const l of this.listeners) l(key, added);
  }
}
