import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';

/** `<dataDir>/lineside.pid`: written by a running appliance, so `lineside restore` can refuse. */
export const PID_FILE = 'lineside.pid';

/** The pid of an appliance running on this data directory, or null (a stale file is ignored). */
export function runningAppliance(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** Mark the data directory as in use by this process; returns the release function. */
export function claimDataDir(dataDir: string): () => void {
  const other = runningAppliance(dataDir);
  if (other !== null && other !== process.pid) {
    throw new LinesideError(ErrorCode.storage, `data directory ${dataDir} is in use by another lineside process (pid ${other})`);
  }
  const file = join(dataDir, PID_FILE);
  writeFileSync(file, `${process.pid}\n`);
  return () => rmSync(file, { force: true });
}
