// Whether a recorded process still runs. A pid alone cannot say: once its process is gone (a crash, a
// reboot) the pid may be handed to any other program, which must be neither mistaken for a daemon nor
// signalled. The daemon records its identity beside its pid (daemon.json); the lock and the extension
// both judge through isRecordedProcessAlive, so they cannot disagree.

import fs from 'node:fs';

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user, which still means the pid is taken.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie answers signal 0 but has exited: a daemon killed after its window closed stays one where
  // nothing reaps orphans (a container whose PID 1 does not), and its lock would be held for good.
  return !exited(pid);
}

/** True when /proc says `pid` has exited and waits to be reaped (state Z or X); false where /proc cannot tell. */
function exited(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 1).trim()[0];
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/**
 * What tells `pid` apart from every other process that has had or will have that pid: the boot and its
 * start time within that boot. Null where /proc cannot tell (not Linux, or the process is gone).
 */
export function processIdentity(pid: number): string | null {
  try {
    const start = startTimeFromStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return start !== null && boot !== '' ? `${boot} ${start}` : null;
  } catch {
    return null;
  }
}

/**
 * The start time (field 22, clock ticks since boot) in the text of /proc/<pid>/stat. Fields are counted
 * from the last ')': the command name before it, field 2, may hold spaces and parentheses of its own.
 */
export function startTimeFromStat(stat: string): string | null {
  const nameEnd = stat.lastIndexOf(')');
  if (nameEnd < 0) return null;
  const start = stat.slice(nameEnd + 1).trim().split(/\s+/)[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

/**
 * Whether the process recorded as `pid`, with the identity it had then, still runs: its pid is alive and
 * is not now another process's. Where either identity is unknown (none recorded, as by older versions
 * or a daemon that died before recording it; no /proc, as on macOS), the pid alone decides.
 */
export function isRecordedProcessAlive(pid: number, identity: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  const current = identity === undefined ? null : processIdentity(pid);
  return current === null || current === identity;
}
