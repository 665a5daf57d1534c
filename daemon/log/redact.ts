// Secrets must never reach a log line, whatever the caller passed: known secrets (the daemon token,
// API keys handed over by the editor) are replaced verbatim, and anything shaped like a credential
// is masked by pattern, so a key pasted into an error message from a provider is caught too.

const SECRET_PATTERNS: RegExp[] = [
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g, // OpenAI, Anthropic
  /\bgsk_[A-Za-z0-9]{16,}/g, // Groq
  /\bAIza[0-9A-Za-z_-]{30,}/g, // Google
  /\bxai-[A-Za-z0-9]{20,}/g, // xAI
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key id, long-term and temporary
  /\bfw_[A-Za-z0-9]{16,}/g, // Fireworks
  /\bsk-or-v1-[A-Za-z0-9]{16,}/g, // OpenRouter
  // The password of a URL (redis://:pw@host, postgres://user:pw@host): the host stays readable.
  /(?<=\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s/?#@]+(?=@)/gi,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  // An Authorization header of any scheme (Basic, Bearer, AWS4-HMAC-SHA256...): what follows the scheme.
  /((?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:[A-Za-z0-9-]+\s+)?)[^\s"',}]{6,}/gi,
  // key=value and "key": "value", AWS's AWS_SECRET_ACCESS_KEY=, aws_session_token = and "secretAccessKey" among them.
  /((?:api[_-]?key|access[_-]?key(?:[_-]?id)?|secret|passw(?:or)?d|token)["']?\s*[:=]\s*["']?)[^\s"',}]{6,}/gi,
];

/**
 * Object keys whose value is a secret whatever it looks like: headers that carry credentials, and names
 * ending like a key, secret, password or token (sessionToken, secretAccessKey, dbPassword). Plural
 * `tokens` (the token counts) is not one.
 */
const SECRET_KEY = /^(?:proxy-)?authorization$|^(?:set-)?cookie$|(?:api[_-]?key|access[_-]?key(?:[_-]?id)?|secret|passw(?:or)?d|token)$/i;

/** Deeper than this, a value is dropped rather than walked: nothing unmasked gets through. */
const MAX_DEPTH = 8;

const MASK = '[redacted]';

export class Redactor {
  private readonly known = new Set<string>();

  /** Registers a secret to be masked wherever it appears; short strings would mask ordinary words. */
  add(secret: string): void {
    if (secret.length >= 8) this.known.add(secret);
  }

  text(input: string): string {
    let out = input;
    for (const secret of this.known) out = out.split(secret).join(MASK);
    for (const pattern of SECRET_PATTERNS) {
      out = out.replace(pattern, (_match, prefix?: unknown) => (typeof prefix === 'string' ? prefix + MASK : MASK));
    }
    return out;
  }

  /** Deep copy with every string masked; keys that name a secret lose their value outright. */
  value(input: unknown, depth = 0): unknown {
    if (typeof input === 'string') return this.text(input);
    if (input === null || typeof input !== 'object') return input;
    if (depth > MAX_DEPTH) return '[too deep]';
    if (input instanceof Error) {
      return { name: input.name, message: this.text(input.message), stack: input.stack && this.text(input.stack) };
    }
    if (Array.isArray(input)) return input.map((item) => this.value(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(input)) out[key] = SECRET_KEY.test(key) ? MASK : this.value(item, depth + 1);
    return out;
  }
}
