// The team's Redis URL: what makes one unusable, said before anything changes (the editor's input box
// and the daemon's setTeam both ask), and which parts of it are secret.

/** Why the URL cannot be used, completing a sentence that starts with its name; null when it can. */
export function teamUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL (expected redis://host:port or rediss://host:port)';
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `must be a redis:// or rediss:// URL, not ${parsed.protocol}//`;
  if (!parsed.hostname) return 'names no host';
  return null;
}

/** What the log redactor must mask: the whole URL, and its password on its own. */
export function teamUrlSecrets(url: string): string[] {
  const password = new URL(url).password;
  return password ? [url, decodeURIComponent(password)] : [url];
}
