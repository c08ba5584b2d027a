import { readFileSync, readlinkSync } from 'node:fs';

/**
 * What this machine says about another process, so a pid read from a file is checked
 * before anything acts on it: after a reboot or a crash that pid may be anyone's.
 */

/** Whether a process with this pid exists (and we may signal it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's arguments as started (argv), or null where the system does not tell (no /proc, or gone). */
export function commandLine(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return null;
  }
}

/** The process's working directory, or null where the system does not tell. */
export function workingDirectory(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** Whether this machine lets us look at other processes (Linux's /proc). */
export function canInspectProcesses(): boolean {
  return commandLine(process.pid) !== null;
}
