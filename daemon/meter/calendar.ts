// Day and month keys in the daemon's local time: a developer's "today" is their wall-clock day, so
// daily budgets, rollups and ledger month files all use local time (the TZ the daemon runs in).

/** Milliseconds since the epoch; injectable so tests can cross day and month boundaries. */
export type Clock = () => number;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The time zone local days are taken in, as an IANA name ("Europe/Berlin"). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** YYYY-MM-DD in local time. */
export function localDay(time: number | string): string {
  const d = new Date(time);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** YYYY-MM in local time. */
export function localMonth(time: number | string): string {
  return localDay(time).slice(0, 7);
}

/** The month `by` months after `month` (YYYY-MM; negative goes back). */
export function shiftMonth(month: string, by: number): string {
  const d = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 + by, 1));
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}`;
}
