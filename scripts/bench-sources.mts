/**
 * `npm run bench:sources` (also run by `npm run bench`): per camera kind at 1920×1080, the frames per
 * second lineside receives and the CPU it spends on them (the Node process plus its decoder child,
 * as % of one core; the camera servers run as separate processes and are not counted). Live kinds
 * run at 25 frames/s like a line camera; "max" rows decode as fast as the machine allows.
 *
 *   npm run bench:sources -- [--seconds 8] [--rounds 3] [--only rtsp,mjpeg,…]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { silentLogger } from '../src/observability/logger.js';
import { freePort } from '../src/plc/free-port.js';
import { ffmpegArgs, ffmpegPath } from '../src/sources/ffmpeg.js';
import { runChildFrames } from '../src/sources/child-frames.js';
import { folderSourceSchema } from '../src/sources/folder.config.js';
import { folderSource } from '../src/sources/folder.source.js';
import type { FrameSource } from '../src/sources/frame-source.js';
import { genicamSource, genicamSourceSchema } from '../src/sources/genicam.source.js';
import { mjpegSource, mjpegSourceSchema } from '../src/sources/mjpeg.source.js';
import { rtspSource, rtspSourceSchema } from '../src/sources/rtsp.source.js';
import { snapshotSource, snapshotSourceSchema } from '../src/sources/snapshot.source.js';
import { StreamSource } from '../src/sources/stream-source.js';
import { DEBIAN_PYTHON, hasCommand, hasRtspServerPackages, RTSP_SERVER_SCRIPT, startPeer } from '../src/sources/testing/peers.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    /** Inspections per second the simulated station takes from each live camera. */
    'inspect-fps': { type: 'string', default: '5' },
    // Internal: one measurement in a fresh process (see main).
    measure: { type: 'string' },
    jpeg: { type: 'string' },
    video: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const ONLY = args.only ? new Set(args.only.split(',')) : null;
const W = 1920;
const H = 1080;
const FPS = 25;
const INSPECT_FPS = Number(args['inspect-fps']);
const TICK_HZ = 100; // Linux clock ticks per second in /proc/<pid>/stat
const log = silentLogger();
const work = mkdtempSync(join(tmpdir(), 'lineside-bench-sources-'));

/**
 * CPU seconds of this process, and of every process descended from it (decoders, and the shell
 * wrapping gst-launch) except the camera servers and their descendants.
 */
function cpuSeconds(exclude: ReadonlySet<number>): { node: number; children: number } {
  const u = process.cpuUsage();
  const procs = new Map<number, { ppid: number; cpu: number }>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(pid, { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICK_HZ }); // ppid, utime + stime
    } catch {
      // exited meanwhile
    }
  }
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (exclude.has(p)) return false;
      const parent = procs.get(p)?.ppid;
      if (parent === process.pid) return true;
      if (parent === undefined) return false;
      p = parent;
    }
    return false;
  };
  let children = 0;
  for (const [pid, p] of procs) if (pid !== process.pid && ours(pid)) children += p.cpu;
  return { node: (u.user + u.system) / 1e6, children };
}

interface Measured {
  readonly fps: number;
  /** % of one core: lineside's Node process plus its decoder child. */
  readonly cpu: number;
  /** Of which the Node process. */
  readonly node: number;
}

interface Row {
  readonly kind: string;
  readonly how: string;
  readonly fps: number[];
  readonly cpu: number[];
  readonly node: number[];
}

/**
 * Runs a source for SECONDS while a station takes the newest frame `inspectFps` times a second
 * (every frame when 0); frames/s received and CPU %.
 */
async function measure(source: FrameSource, peers: ReadonlySet<number>, pull: boolean, inspectFps = INSPECT_FPS): Promise<Measured> {
  await source.start();
  try {
    await source.grab({ timeoutMs: 15_000 });
    const n0 = source.stats().framesReceived;
    const c0 = cpuSeconds(peers);
    const t0 = performance.now();
    let consumed = 0;
    while (performance.now() - t0 < SECONDS * 1000) {
      // Pull sources deliver only what is asked: a still per part at the line rate. Live cameras
      // stream at their own rate while the station takes what it inspects.
      const pace = pull ? FPS : inspectFps;
      if (pace > 0) {
        const due = t0 + (consumed * 1000) / pace;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      try {
        const f = await source.grab({ timeoutMs: 2000 });
        await source.release?.(f);
        consumed++;
      } catch {
        break;
      }
    }
    const wall = (performance.now() - t0) / 1000;
    const frames = pull ? consumed : source.stats().framesReceived - n0;
    const c1 = cpuSeconds(peers);
    const node = ((c1.node - c0.node) / wall) * 100;
    const child = ((c1.children - c0.children) / wall) * 100;
    return { fps: frames / wall, cpu: node + child, node };
  } finally {
    await source.stop();
  }
}

function kill(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    p.once('exit', () => r());
    p.kill('SIGKILL');
  });
}

async function rtsp(): Promise<Measured> {
  const { proc, line } = await startPeer(DEBIAN_PYTHON, [RTSP_SERVER_SCRIPT, '0', String(W), String(H), String(FPS)]);
  try {
    const src = rtspSource(rtspSourceSchema.parse({ type: 'rtsp', url: `rtsp://127.0.0.1:${line}/line` }), { history: 1, logger: log });
    return await measure(src, new Set([proc.pid!]), false);
  } finally {
    await kill(proc);
  }
}

async function mjpeg(): Promise<Measured> {
  const port = await freePort();
  const server = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${FPS}`, '-q:v', '5', '-f', 'mpjpeg', '-listen', '1', `http://127.0.0.1:${port}/stream.mjpg`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 800));
  try {
    const src = mjpegSource(mjpegSourceSchema.parse({ type: 'mjpeg', url: `http://127.0.0.1:${port}/stream.mjpg` }), { history: 1, logger: log });
    return await measure(src, new Set([server.pid!]), false);
  } finally {
    await kill(server);
  }
}

/** A still-image camera in its own process, answering each GET with the same 1080p JPEG. */
async function snapshot(jpegPath: string): Promise<Measured> {
  const code = `const b=require('fs').readFileSync(${JSON.stringify(jpegPath)});const s=require('http').createServer((q,r)=>{r.writeHead(200,{'content-type':'image/jpeg'});r.end(b)});s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
  const { proc, line } = await startPeer(process.execPath, ['-e', code]);
  try {
    const src = snapshotSource(snapshotSourceSchema.parse({ type: 'snapshot', url: `http://127.0.0.1:${line}/snap.jpg` }), { history: 1, logger: log });
    return await measure(src, new Set([proc.pid!]), true);
  } finally {
    await kill(proc);
  }
}

/** A smart camera in its own process, writing a 1080p JPEG per part into the folder at 25/s. */
async function folder(jpegPath: string): Promise<Measured> {
  const dir = join(work, `drop-${Date.now()}`);
  mkdirSync(dir);
  const code = `const fs=require('fs');const b=fs.readFileSync(${JSON.stringify(jpegPath)});let i=0;setInterval(()=>{const n=String(++i).padStart(6,'0');fs.writeFileSync(${JSON.stringify(dir)}+'/.'+n+'.jpg',b);fs.renameSync(${JSON.stringify(dir)}+'/.'+n+'.jpg',${JSON.stringify(dir)}+'/P'+n+'.jpg')},${1000 / FPS});`;
  const writer = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  try {
    const src = folderSource(folderSourceSchema.parse({ type: 'folder', path: dir, settleMs: 50, afterInspection: 'delete' }), { history: 1, logger: log });
    return await measure(src, new Set([writer.pid!]), true);
  } finally {
    await kill(writer);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The H.264 decode ceiling: a 1080p file decoded by ffmpeg as fast as it goes, through the same pipe and parser. */
async function h264Max(video: string): Promise<Measured> {
  const args = ffmpegArgs(['-stream_loop', '-1', '-i', video]);
  const src = new StreamSource('replay', `h264 ${video}`, (emit, signal, pool) => runChildFrames({ command: ffmpegPath(), args, secrets: [] }, emit, signal, log, pool), { history: 1 }, log);
  return measure(src, new Set(), false, 0);
}

async function genicam(): Promise<Measured> {
  const cam = spawn('arv-fake-gv-camera-0.8', ['-i', '127.0.0.1'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  try {
    const cfg = genicamSourceSchema.parse({ type: 'genicam', camera: '127.0.0.1', width: W, height: H, features: { AcquisitionFrameRate: FPS } });
    return await measure(genicamSource(cfg, { history: 1, logger: log }), new Set([cam.pid!]), false);
  } finally {
    await kill(cam);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** What each kind runs, given the prepared 1080p JPEG and H.264 file. */
function runners(jpegPath: string, video: string): Record<string, () => Promise<Measured>> {
  return { rtsp, mjpeg, snapshot: () => snapshot(jpegPath), folder: () => folder(jpegPath), genicam, 'h264 max': () => h264Max(video) };
}

/**
 * Each measurement runs in a fresh Node process doing nothing else, as a camera's share of the
 * appliance would: measured in this process after the others, the garbage collector's work for
 * earlier kinds' frames showed up in later kinds' figures.
 */
function measureInChild(kind: string, jpegPath: string, video: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', kind, '--jpeg', jpegPath, '--video', video, '--seconds', String(SECONDS), '--inspect-fps', String(INSPECT_FPS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${kind}: measurement failed (exit ${code}) ${out.slice(-300)}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as Measured);
    });
  });
}

async function main(): Promise<void> {
  const jpegPath = join(work, 'frame-1080p.jpg');
  const fixture = readFileSync(new URL('../fixtures/blister/blister-0000.jpg', import.meta.url));
  writeFileSync(jpegPath, await sharp(fixture).resize(W, H, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer());
  const video = join(work, 'line-1080p.mp4');
  spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${FPS}`, '-t', '4', '-c:v', 'libx264', '-preset', 'veryfast', '-g', String(FPS), '-pix_fmt', 'yuv420p', video]);

  const kinds: Array<{ kind: string; how: string; available: () => string | null }> = [
    { kind: 'rtsp', how: `H.264 ${W}×${H} @ ${FPS} fps, GStreamer RTSP server, TCP`, available: () => (hasRtspServerPackages() ? null : 'python3-gi gir1.2-gst-rtsp-server-1.0 not installed') },
    { kind: 'mjpeg', how: `MJPEG over HTTP ${W}×${H} @ ${FPS} fps (ffmpeg server)`, available: () => null },
    { kind: 'snapshot', how: `HTTP GET per still, ${W}×${H} JPEG, ${FPS} stills/s`, available: () => null },
    { kind: 'folder', how: `one ${W}×${H} JPEG file per part at ${FPS}/s, deleted after inspection`, available: () => null },
    { kind: 'genicam', how: `Aravis fake GigE Vision camera, ${W}×${H} asked @ ${FPS} fps`, available: () => (hasCommand('arv-fake-gv-camera-0.8') ? null : 'aravis-tools not installed') },
    { kind: 'h264 max', how: `H.264 ${W}×${H} file decoded as fast as possible (ffmpeg → PNM pipe)`, available: () => null },
  ];
  const rows: Row[] = [];
  for (const k of kinds) {
    if (ONLY && !ONLY.has(k.kind.split(' ')[0]!)) continue;
    const missing = k.available();
    if (missing) {
      console.log(`${k.kind}: not measured (${missing})`);
      continue;
    }
    const row: Row = { kind: k.kind, how: k.how, fps: [], cpu: [], node: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const m = await measureInChild(k.kind, jpegPath, video);
      row.fps.push(m.fps);
      row.cpu.push(m.cpu);
      row.node.push(m.node);
      console.log(`${k.kind} round ${r + 1}: ${m.fps.toFixed(1)} frames/s, ${m.cpu.toFixed(0)} % of a core (Node ${m.node.toFixed(0)} %)`);
    }
    rows.push(row);
  }
  // Decode a 1080p JPEG to pixels in lineside (the cost MJPEG, snapshot and folder frames add to preprocessing).
  const jpeg = readFileSync(jpegPath);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await sharp(jpeg).raw().toBuffer();
    times.push(performance.now() - t);
  }
  console.log(`\nper-source acquisition at ${W}×${H}, live cameras at ${FPS} fps with ${INSPECT_FPS} frames/s inspected, ${SECONDS} s × ${ROUNDS} rounds, medians (min–max):\n`);
  console.log('| source | how | frames/s | CPU, % of one core | of which Node | CPU per frame |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const f = median(r.fps);
    const c = median(r.cpu);
    console.log(`| ${r.kind} | ${r.how} | ${f.toFixed(1)} (${Math.min(...r.fps).toFixed(1)}–${Math.max(...r.fps).toFixed(1)}) | ${c.toFixed(0)} (${Math.min(...r.cpu).toFixed(0)}–${Math.max(...r.cpu).toFixed(0)}) | ${median(r.node).toFixed(0)} | ${((c * 10) / Math.max(f, 0.001)).toFixed(1)} ms |`);
  }
  console.log(`\n1080p JPEG decode to pixels in lineside (sharp, 1 thread): median ${median(times).toFixed(1)} ms`);
  console.log('v4l2: not measured (no V4L2 device on this machine)');
  rmSync(work, { recursive: true, force: true });
}

if (args.measure) {
  const run = runners(args.jpeg!, args.video!)[args.measure];
  if (!run) throw new Error(`unknown kind ${args.measure}`);
  console.log(`RESULT ${JSON.stringify(await run())}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
} else {
  await main();
}
