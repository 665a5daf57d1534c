// The team's server URLs (Redis for telemetry, PostgreSQL for the ledger): what makes one unusable,
// said before anything changes (the editor's input box and the daemon's setTeam both ask), and which
// parts of it are secret.

export type TeamServer = 'redis' | 'postgres';

const KINDS: Record<TeamServer, { protocols: string[]; expected: string }> = {
  redis: { protocols: ['redis:', 'rediss:'], expected: 'redis://host:port or rediss://host:port' },
  postgres: { protocols: ['postgres:', 'postgresql:'], expected: 'postgres://user[:password]@host:port/database' },
};

/** Why the URL cannot be used, completing a sentence that starts with its name; null when it can. */
export function teamUrlProblem(url: string, server: TeamServer = 'redis'): string | null {
  const kind = KINDS[server];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `is not a URL (expected ${kind.expected})`;
  }
  if (!kind.protocols.includes(parsed.protocol)) {
    return `must be a ${kind.protocols.map((p) => `${p}//`).join(' or ')} URL, not ${parsed.protocol}//`;
  }
  if (!parsed.hostname) return 'names no host';
  // The clients and the log redactor read these %-decoded: a bare % (as in "100%sure") makes that throw,
  // after the link in use was already replaced. Said here, before anything changes.
  if (!decodes(parsed.username)) return 'has a malformed %-escape in its user name (write % as %25)';
  if (!decodes(parsed.password)) return 'has a malformed %-escape in its password (write % as %25)';
  return null;
}

function decodes(part: string): boolean {
  try {
    decodeURIComponent(part);
    return true;
  } catch {
    return false;
  }
}

/** What the log redactor must mask: the whole URL, and its password on its own. */
export function teamUrlSecrets(url: string): string[] {
  const password = new URL(url).password;
  return password ? [url, decodeURIComponent(password)] : [url];
}

/** host:port, what status and logs may show of a server; never the user or password. */
export function teamServerOf(url: string, server: TeamServer): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (server === 'redis' ? '6379' : '5432')}`;
}
