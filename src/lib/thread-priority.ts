import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Raises the nice value of the calling thread only (Linux: nice is per thread, and setpriority() on a
 * thread id changes that thread). The pipeline thread runs at a lower priority so that, when the two
 * cores are short, the kernel gives the HTTP thread (the 202s) and the writer thread the CPU first and
 * the backlog drains with what is left. Returns the thread id, or null where this is not possible.
 */
export function niceThisThread(nice: number): number | null {
  if (nice === 0 || process.platform !== 'linux') return null;
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (!Number.isInteger(tid) || tid <= 0) return null;
  setPriority(tid, nice);
  return tid;
}
