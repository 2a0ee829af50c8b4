import { spawn } from 'node:child_process';
import type { Logger } from '../observability/logger.js';
import type { FramePool } from './frame-pool.js';
import { PnmSplitter, type RawImage } from './pnm-stream.js';

/** A decoder child process (ffmpeg, gst-launch) that writes PNM frames to its stdout. */
export interface ChildCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Strings (passwords) replaced by *** in anything the child prints before it reaches a log or a reason. */
  readonly secrets: readonly string[];
  /** Sees every line the child prints on stderr (redacted), for adapters that explain failures themselves. */
  readonly onLine?: (line: string) => void;
}

const KILL_GRACE_MS = 2000;
const STDERR_LINES = 20;

/**
 * Runs the child until it exits or `signal` aborts, handing each frame to `onImage`. Resolves on a
 * clean exit (end of a file); rejects with the child's own last words (redacted) otherwise, so the
 * reason on the page is "401 Unauthorized" or "Connection refused", not "exit code 1".
 */
export function runChildFrames(cmd: ChildCommand, onImage: (img: RawImage) => void, signal: AbortSignal, logger: Logger, pool?: FramePool): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve();
    const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const splitter = new PnmSplitter(pool ? (size) => pool.take(size) : undefined);
    const lines: string[] = [];
    let failure: string | null = null;
    let killTimer: NodeJS.Timeout | null = null;

    const redact = (s: string): string => redactSecrets(s, cmd.secrets);
    const kill = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const onAbort = (): void => kill();
    signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        for (const img of splitter.push(chunk)) onImage(img);
      } catch (e) {
        failure = `unreadable output from ${cmd.command}: ${(e as Error).message}`;
        kill();
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      for (const line of text.split(/\r?\n/)) {
        const l = line.trim();
        if (!l) continue;
        const safe = redact(l);
        lines.push(safe);
        if (lines.length > STDERR_LINES) lines.shift();
        logger.debug({ child: cmd.command, line: safe }, 'decoder says');
        cmd.onLine?.(safe);
      }
    });
    child.on('error', (e) => {
      failure = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd.command} is not installed (not found on PATH)` : redact(e.message);
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (signal.aborted) return resolve();
      if (failure) return reject(new Error(failure));
      if (code === 0) return resolve();
      const said = lastWords(lines);
      reject(new Error(said ?? `${cmd.command} exited with ${sig ?? `code ${code}`}`));
    });
  });
}

/** Replaces each secret (raw and URL-encoded) with ***. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out.replace(/(\w+:\/\/)[^\s/@]*@/g, '$1***@');
}

/** The most telling of the child's last lines: the last one that reads like an error. */
function lastWords(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (/error|fail|refused|unauthori[sz]ed|denied|not found|no such|invalid|timed? ?out|could not|cannot|unable/i.test(l)) return l;
  }
  return lines.at(-1) ?? null;
}
