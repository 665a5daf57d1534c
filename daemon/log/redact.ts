// Secrets must never reach a log line, whatever the caller passed: known secrets (the daemon token,
// API keys handed over by the editor) are replaced verbatim, and anything shaped like a credential
// is masked by pattern, so a key pasted into an error message from a provider is caught too.

const SECRET_PATTERNS: RegExp[] = [
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g, // OpenAI, Anthropic
  /\bgsk_[A-Za-z0-9]{16,}/g, // Groq
  /\bAIza[0-9A-Za-z_-]{30,}/g, // Google
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key id
  /\bfw_[A-Za-z0-9]{16,}/g, // Fireworks
  /\bsk-or-v1-[A-Za-z0-9]{16,}/g, // OpenRouter
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /((?:api[_-]?key|token|secret|password)["']?\s*[:=]\s*["']?)[^\s"',}]{6,}/gi,
];

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
    if (input === null || typeof input !== 'object' || depth > 8) return input;
    if (input instanceof Error) {
      return { name: input.name, message: this.text(input.message), stack: input.stack && this.text(input.stack) };
    }
    if (Array.isArray(input)) return input.map((item) => this.value(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(input)) {
      out[key] = /^(authorization|api[_-]?key|apikey|token|secret|password|x-api-key)$/i.test(key)
        ? MASK
        : this.value(item, depth + 1);
    }
    return out;
  }
}
