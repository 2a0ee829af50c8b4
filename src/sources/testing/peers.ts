import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FrameSource } from '../frame-source.js';

/** Debian's interpreter: the one that has python3-gi (the first python3 on PATH may not). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Fails (does not skip) with the package to install when a system tool the camera suite needs is absent. */
export function requireSystem(what: string, check: () => boolean, install: string): void {
  if (!check()) throw new Error(`${what} is not installed here: apt-get install ${install} (as .ci/run does)`);
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** A child process that prints one line (its port) when ready; resolves with that line. */
export function startPeer(command: string, args: readonly string[], opts: { readyLine?: boolean; env?: Record<string, string> } = {}): Promise<{ proc: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`${command} exited (${code}) before it was ready: ${err.trim().slice(-500)}`)));
    if (opts.readyLine === false) return resolve({ proc, line: '' });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ proc, line: out.slice(0, nl).trim() });
    });
  });
}

/** Kills a peer and waits for it to be gone (SIGKILL: a camera that dies, not one that says goodbye). */
export function killPeer(proc: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

/** The GStreamer RTSP server script beside this file. */
export const RTSP_SERVER_SCRIPT = fileURLToPath(new URL('./rtsp_server.py', import.meta.url));

export function hasRtspServerPackages(): boolean {
  return existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ['-c', "import gi; gi.require_version('GstRtspServer','1.0'); from gi.repository import GstRtspServer"]).status === 0;
}

/** Frames per second the source receives over the next `ms`, once it has delivered its first frame. */
export async function frameRate(source: FrameSource, ms: number): Promise<number> {
  await until(() => source.stats().framesReceived > 0, 10_000, 'first frame');
  const n0 = source.stats().framesReceived;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return ((source.stats().framesReceived - n0) * 1000) / (Date.now() - t0);
}

/** Polls `check` every 50 ms until it returns truthy or `timeoutMs` passes. */
export async function until<T>(check: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<Awaited<T>>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<Awaited<T>>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
