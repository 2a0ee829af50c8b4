import { execFile } from 'node:child_process';
import { z } from 'zod';
import { runChildFrames, type ChildCommand } from './child-frames.js';
import { streamOptions, timingOf, type SourceContext } from './source-options.js';
import { StreamIdle, StreamSource, type StreamSession } from './stream-source.js';

/** A GenICam feature or enum entry name (SFNC style): nothing gst-launch or Aravis would read as syntax. */
const GENICAM_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const GENICAM_NAME_MESSAGE = 'must be a GenICam name: a letter, then letters, digits or _';

/**
 * An IP address, or a device ID/name as Aravis lists it ("Basler-40012345", "Aravis-Fake-GV01").
 * Spaces are allowed inside (some vendor names have them); nothing else gst-launch would parse.
 */
const CAMERA_ID = /^[A-Za-z0-9](?:[A-Za-z0-9 ._:-]{0,126}[A-Za-z0-9._:-])?$/;

/** A feature value written through aravissrc's `features` string: one token, no quotes or spaces. */
const featureValueSchema = z.union([
  z.boolean(),
  z.number().finite(),
  z.string().regex(/^[A-Za-z0-9_.:+-]{1,64}$/, 'must be one word of letters, digits and . _ : + - (no spaces or quotes)'),
]);

/** Features aravissrc sets itself from the negotiated caps; changing them afterwards breaks the frames. */
const NEGOTIATED_FEATURES = new Set(['PixelFormat', 'Width', 'Height', 'OffsetX', 'OffsetY', 'BinningHorizontal', 'BinningVertical']);
/** Features owned by a dedicated key, so the two cannot disagree. */
const OWNED_FEATURES: Readonly<Record<string, readonly string[]>> = {
  trigger: ['TriggerSelector', 'TriggerMode', 'TriggerSource', 'TriggerActivation'],
  exposureUs: ['ExposureTime', 'ExposureTimeAbs'],
  exposureAuto: ['ExposureAuto'],
  gainDb: ['Gain', 'GainRaw'],
  gainAuto: ['GainAuto'],
};

const autoMode = z.enum(['off', 'once', 'continuous']);
type AutoMode = z.output<typeof autoMode>;

export const genicamSourceSchema = z
  .strictObject({
    type: z.literal('genicam'),
    /** The camera's IP address (always works, also across routers) or its Aravis device ID (found by discovery on the local subnet). */
    camera: z.string().regex(CAMERA_ID, 'must be an IP address or an Aravis device ID such as Basler-40012345'),
    /** Exposure time, µs (auto exposure is switched off). */
    exposureUs: z.number().positive().max(100_000_000).optional(),
    /** Analog gain, dB (auto gain is switched off). */
    gainDb: z.number().min(0).max(500).optional(),
    exposureAuto: autoMode.optional(),
    gainAuto: autoMode.optional(),
    /**
     * Free-running (the camera's own frame rate), or a hardware trigger: the PLC or a part sensor
     * wired to one of the camera's input lines starts each exposure. Omitted: free-running too
     * (aravissrc's frame-rate setup switches the camera's triggers off). aravissrc ends the stream
     * after 2 s without a frame, so triggers must come at least every 2 s or the source reconnects.
     */
    trigger: z
      .discriminatedUnion('mode', [
        z.strictObject({ mode: z.literal('free') }),
        z.strictObject({
          mode: z.literal('hardware'),
          /** The camera input the trigger is wired to, as the camera names it (Line0, Line1, …). */
          line: z.string().regex(GENICAM_NAME, GENICAM_NAME_MESSAGE),
          activation: z.enum(['RisingEdge', 'FallingEdge', 'AnyEdge', 'LevelHigh', 'LevelLow']).optional(),
        }),
      ])
      .optional(),
    /** GigE Vision stream packet size, bytes (jumbo frames: up to the NIC's MTU). */
    packetSize: z.number().int().min(576).max(16_384).optional(),
    /** Further GenICam features, set after the ones above, in this order: `{ AcquisitionFrameRate: 10, ReverseX: true }`. */
    features: z.record(z.string().regex(GENICAM_NAME, GENICAM_NAME_MESSAGE), featureValueSchema).optional(),
    /** What the camera delivers: colour (RGB) or monochrome (GRAY8, from a Mono8 camera). */
    pixels: z.enum(['rgb', 'grey']).default('rgb'),
    /** Image size asked of the camera (its Width/Height, negotiated through the pipeline); omit for the camera's current size. */
    width: z.number().int().min(16).max(16_384).optional(),
    height: z.number().int().min(16).max(16_384).optional(),
    ...streamOptions,
  })
  .superRefine((cfg, ctx) => {
    if (cfg.exposureUs !== undefined && cfg.exposureAuto !== undefined && cfg.exposureAuto !== 'off') {
      ctx.addIssue({ code: 'custom', path: ['exposureUs'], message: `exposureUs has no effect with exposureAuto: ${cfg.exposureAuto}; drop one of them` });
    }
    if (cfg.gainDb !== undefined && cfg.gainAuto !== undefined && cfg.gainAuto !== 'off') {
      ctx.addIssue({ code: 'custom', path: ['gainDb'], message: `gainDb has no effect with gainAuto: ${cfg.gainAuto}; drop one of them` });
    }
    for (const name of Object.keys(cfg.features ?? {})) {
      if (NEGOTIATED_FEATURES.has(name)) {
        ctx.addIssue({ code: 'custom', path: ['features', name], message: `${name} is negotiated by the pipeline and cannot be set here (use pixels, width and height; set offsets and binning in the camera's saved user set)` });
      }
      for (const [key, owned] of Object.entries(OWNED_FEATURES)) {
        if (owned.includes(name) && (cfg as Record<string, unknown>)[key] !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['features', name], message: `${name} is set by ${key}; set it in one place only` });
        }
      }
    }
  });
export type GenicamSourceConfig = z.output<typeof genicamSourceSchema>;

export const GST_LAUNCH = 'gst-launch-1.0';
const GST_INSPECT = 'gst-inspect-1.0';
/** What Debian needs for this adapter: gst-launch, aravissrc, videoconvert, pnmenc. */
export const GENICAM_PACKAGES = 'gstreamer1.0-tools libaravis-0.8-0 gstreamer1.0-plugins-base gstreamer1.0-plugins-bad';
/** The GStreamer elements used, with the Debian package each comes in. */
const ELEMENTS: ReadonlyArray<readonly [element: string, pkg: string]> = [
  ['aravissrc', 'libaravis-0.8-0'],
  ['videoconvert', 'gstreamer1.0-plugins-base'],
  ['pnmenc', 'gstreamer1.0-plugins-bad'],
];
/** Buffers Aravis allocates up front (each one full frame; its default of 50 is a gigabyte at 20 MP). */
const ARV_BUFFERS = 10;
/** aravissrc's own frame timeout (hard-coded in the element): no frame for this long ends gst-launch. */
const ARAVIS_FRAME_TIMEOUT_S = 2;
/** After gst-launch's first ERROR line, how long to collect the lines that explain it. */
const ERROR_LINES_MS = 100;
/** Then how long it may take to stop by itself (it does in ~0.1 s when the camera still answers). */
const ERROR_GRACE_S = 0.5;

const AUTO_NICK: Readonly<Record<AutoMode, string>> = { off: 'off', once: 'once', continuous: 'on' };

/** The `features` string for aravissrc: trigger first, then the configured features in order. */
function featureAssignments(cfg: GenicamSourceConfig): string[] {
  const out: string[] = [];
  // aravissrc sets the frame rate from the negotiated caps, which in Aravis switches triggers off and
  // leaves TriggerSelector on AcquisitionStart: select FrameStart again before touching the trigger.
  if (cfg.trigger?.mode === 'free') out.push('TriggerSelector=FrameStart', 'TriggerMode=Off');
  if (cfg.trigger?.mode === 'hardware') {
    out.push('TriggerSelector=FrameStart', 'TriggerMode=On', `TriggerSource=${cfg.trigger.line}`);
    if (cfg.trigger.activation) out.push(`TriggerActivation=${cfg.trigger.activation}`);
  }
  for (const [name, value] of Object.entries(cfg.features ?? {})) out.push(`${name}=${featureValue(name, value)}`);
  return out;
}

function featureValue(name: string, value: string | number | boolean): string {
  // Checked again here, not only by the schema: this text ends up in a pipeline description.
  if (!GENICAM_NAME.test(name)) throw new Error(`genicam: feature name ${JSON.stringify(name)} is not a GenICam name`);
  const text = typeof value === 'boolean' ? String(value) : typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  if (!/^[A-Za-z0-9_.:+-]{1,64}$/.test(text)) throw new Error(`genicam: value of ${name} is not a single safe token`);
  return text;
}

function num(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`genicam: ${n} is not a number`);
  return String(n);
}

/**
 * The full gst-launch argv (command first) that reads this camera: one argv element per
 * `name=value`, every value checked, so nothing in the configuration can add pipeline syntax.
 * For tests and the commissioning tool; the source itself runs it as shown.
 */
export function describeGenicamPipeline(cfg: GenicamSourceConfig): string[] {
  if (!CAMERA_ID.test(cfg.camera)) throw new Error(`genicam: camera ${JSON.stringify(cfg.camera)} is not an IP address or device ID`);
  const src = ['aravissrc', `camera-name=${cfg.camera}`, `num-arv-buffers=${ARV_BUFFERS}`];
  // Auto modes before the values: aravissrc applies a fixed value only while its auto mode is off.
  if (cfg.exposureAuto) src.push(`exposure-auto=${AUTO_NICK[cfg.exposureAuto]}`);
  else if (cfg.exposureUs !== undefined) src.push('exposure-auto=off');
  if (cfg.exposureUs !== undefined) src.push(`exposure=${num(cfg.exposureUs)}`);
  if (cfg.gainAuto) src.push(`gain-auto=${AUTO_NICK[cfg.gainAuto]}`);
  else if (cfg.gainDb !== undefined) src.push('gain-auto=off');
  if (cfg.gainDb !== undefined) src.push(`gain=${num(cfg.gainDb)}`);
  if (cfg.packetSize !== undefined) src.push(`packet-size=${num(Math.trunc(cfg.packetSize))}`);
  const features = featureAssignments(cfg);
  // One argv element: gst-launch escapes its spaces, and aravissrc splits it into assignments.
  if (features.length > 0) src.push(`features=${features.join(' ')}`);
  const format = cfg.pixels === 'grey' ? 'GRAY8' : 'RGB';
  // A size right after the source is negotiated with the camera, which sets its Width and Height.
  const size = [cfg.width !== undefined ? `width=${num(cfg.width)}` : '', cfg.height !== undefined ? `height=${num(cfg.height)}` : ''].filter(Boolean);
  const sizeCaps = size.length > 0 ? ['!', `video/x-raw,${size.join(',')}`] : [];
  return [GST_LAUNCH, '-q', ...src, ...sizeCaps, '!', 'videoconvert', '!', `video/x-raw,format=${format}`, '!', 'pnmenc', '!', 'fdsink', 'fd=1'];
}

/**
 * gst-launch only cleans up on SIGINT: on the SIGTERM runChildFrames sends it dies on the spot,
 * still holding the camera's control channel, and the next connection finds the camera locked
 * until its heartbeat runs out (seconds) and runs without applying its settings. This shell turns
 * SIGTERM into SIGINT (gst-launch then stops acquisition and releases the camera) and kills
 * gst-launch if that goodbye hangs longer than `graceS` (a camera that is gone: GVCP timeouts).
 * SIGUSR1 does the same with a short grace, for a gst-launch that already reported an error.
 * Its first line on stderr gives its own pid, for that SIGUSR1.
 */
function gracefulStopScript(graceS: number): string {
  return [
    'p=; t=; k=',
    'stop() {',
    '  [ -n "$p" ] || { t=$1; return; }',
    '  kill -INT "$p" 2>/dev/null',
    '  [ -n "$k" ] || { (sleep "$1"; kill -KILL "$p" 2>/dev/null) </dev/null >/dev/null 2>&1 & k=$!; }',
    '}',
    `trap 'stop ${graceS}' TERM INT`,
    `trap 'stop ${ERROR_GRACE_S}' USR1`,
    'echo "lineside-gst-wrapper $$" >&2',
    '"$0" "$@" &',
    'p=$!',
    '[ -n "$t" ] && stop "$t"',
    'while :; do wait "$p"; r=$?; kill -0 "$p" 2>/dev/null || break; done',
    '[ -n "$k" ] && kill "$k" 2>/dev/null',
    'exit "$r"',
  ].join('\n');
}
const WRAPPER_LINE = /^lineside-gst-wrapper (\d+)$/;

function childCommand(argv: readonly string[], cfg: GenicamSourceConfig): ChildCommand {
  // Waiting for a hardware trigger, aravissrc only notices the stop when its 2 s frame wait ends.
  const graceS = cfg.trigger?.mode === 'hardware' ? ARAVIS_FRAME_TIMEOUT_S + 0.5 : 0.5;
  // sh -c SCRIPT gst-launch-1.0 ARGS…: the script runs "$0" "$@", i.e. the argv as given, unparsed.
  return { command: '/bin/sh', args: ['-c', gracefulStopScript(graceS), ...argv], secrets: [] };
}

function run(cmd: string, args: readonly string[]): Promise<{ ok: boolean; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (err) => {
      if (!err) return resolve({ ok: true, missing: false });
      resolve({ ok: false, missing: (err as NodeJS.ErrnoException).code === 'ENOENT' });
    });
  });
}

/**
 * Null when gst-launch and the elements the pipeline uses are installed; otherwise the reason, with
 * the Debian packages to install. Uncached; `genicamPrerequisites()` is the cached form.
 */
export async function checkGenicamPrerequisites(gstInspect = GST_INSPECT): Promise<string | null> {
  const results = await Promise.all(ELEMENTS.map(([element]) => run(gstInspect, [element])));
  if (results.some((r) => r.missing)) {
    return `GStreamer is not installed (${gstInspect} not found): apt-get install ${GENICAM_PACKAGES}, then restart lineside`;
  }
  const absent = ELEMENTS.filter((_, i) => !results[i]!.ok);
  if (absent.length === 0) return null;
  const names = absent.map(([e]) => e).join(', ');
  const pkgs = [...new Set(absent.map(([, p]) => p))].join(' ');
  return `GStreamer element${absent.length > 1 ? 's' : ''} ${names} not installed: apt-get install ${pkgs}, then restart lineside`;
}

let prerequisites: Promise<string | null> | null = null;

/** `checkGenicamPrerequisites()`, run once per process. */
export function genicamPrerequisites(): Promise<string | null> {
  prerequisites ??= checkGenicamPrerequisites();
  return prerequisites;
}

/**
 * Turns what gst-launch and aravissrc print into a reason an operator can act on. gst-launch ends
 * with generic lines ("Failed to set pipeline to PAUSED."); the telling one is its first
 * "ERROR: from element …" line.
 */
export function explainGenicamFailure(lines: readonly string[], fallback: string, cfg: GenicamSourceConfig): string {
  const cam = `GigE Vision camera ${cfg.camera}`;
  if (lines.some((l) => /gst-launch-1\.0: (?:\S+: )?not found/.test(l))) {
    return `gst-launch-1.0 is not installed: apt-get install ${GENICAM_PACKAGES}`;
  }
  const errors = lines.map((l) => /^ERROR: from element \S+: (.*)$/.exec(l)?.[1]).filter((m): m is string => m !== undefined);
  const first = errors.find((m) => !/state change failed and some element failed/.test(m)) ?? errors[0];
  const stopped = lines.map((l) => /streaming stopped, reason ([\w-]+)/.exec(l)?.[1]).find((r) => r !== undefined);
  if (first === undefined) return fallback;

  const notFound = /^Could not find camera "[^"]*": (.*)$/.exec(first);
  if (notFound) {
    const why = notFound[1]!;
    if (/Can't connect to device at address/.test(why)) return `${cam} not found: nothing answers at ${cfg.camera} (power, cable, and same subnet as this machine?)`;
    return `${cam} not found: no camera with that name or ID answered discovery (use its IP address, or check the ID)`;
  }
  const caps = /^Could not set caps on camera "[^"]*": (.*)$/.exec(first);
  if (caps) {
    const why = caps[1]!;
    const feature = /^\[(\w+)\] Not found/.exec(why);
    if (feature) return `${cam} has no feature ${feature[1]} (check features and trigger in the configuration)`;
    const entry = /^\[(\w+)\] '([^']*)' not an entry/.exec(why);
    if (entry) return `${cam} does not accept ${entry[1]}=${entry[2]}: not one of its values`;
    return `${cam} refused its configuration: ${why}`;
  }
  const read = /^Could not read camera "[^"]*": (.*)$/.exec(first);
  if (read) return `${cam} could not be read: ${read[1]}`;
  if (stopped === 'not-negotiated') {
    return `${cam} offers no pixel format that converts to ${cfg.pixels === 'grey' ? 'GRAY8' : 'RGB'} (a mono camera needs pixels: grey; a Bayer-only colour camera is not supported)`;
  }
  if (/Internal data stream error/.test(first) && stopped === 'error') {
    // aravissrc gives up after a fixed time without a frame; for a triggered camera that is also an idle line.
    if (cfg.trigger?.mode === 'hardware') {
      return `no frame from ${cam} for ${ARAVIS_FRAME_TIMEOUT_S} s: no trigger on ${cfg.trigger.line} in that time, or the camera stopped sending (aravissrc ends the stream after ${ARAVIS_FRAME_TIMEOUT_S} s without a frame)`;
    }
    return `${cam} stopped sending frames: none for ${ARAVIS_FRAME_TIMEOUT_S} s`;
  }
  return `${cam}: ${first}`;
}

/** aravissrc gave up waiting for a frame (its fixed timeout), as opposed to losing or refusing the camera. */
function isFrameTimeout(lines: readonly string[]): boolean {
  const errors = lines.filter((l) => l.startsWith('ERROR: from element'));
  return errors.some((l) => /Internal data stream error/.test(l)) && !errors.some((l) => /Could not (find|set caps on|read) camera/.test(l)) && lines.some((l) => /streaming stopped, reason error/.test(l));
}

/** GigE Vision industrial cameras through Aravis: a gst-launch child runs aravissrc and writes PNM frames to a pipe. */
export function genicamSource(cfg: GenicamSourceConfig, ctx: SourceContext): StreamSource {
  const argv = describeGenicamPipeline(cfg);
  const cmd = childCommand(argv, cfg);
  const log = ctx.logger.child({ source: 'genicam' });
  const session: StreamSession = async (emit, signal, pool) => {
    const missing = await genicamPrerequisites();
    if (missing) throw new Error(missing);
    const lines: string[] = [];
    let wrapperPid: number | null = null;
    let failed = false;
    let settled = false;
    const onLine = (line: string): void => {
      const wrapper = WRAPPER_LINE.exec(line);
      if (wrapper) {
        wrapperPid = Number(wrapper[1]);
        return;
      }
      lines.push(line);
      if (lines.length > 60) lines.shift();
      // After an ERROR gst-launch is done, but its goodbye to a camera that is gone hangs for seconds
      // on GVCP timeouts: once the lines explaining the error are in, give it a short grace only.
      if (!failed && line.startsWith('ERROR: ')) {
        failed = true;
        setTimeout(() => {
          if (settled || wrapperPid === null) return;
          try {
            process.kill(wrapperPid, 'SIGUSR1');
          } catch {
            // Already gone.
          }
        }, ERROR_LINES_MS).unref();
      }
    };
    try {
      await runChildFrames({ ...cmd, onLine }, emit, signal, log, pool);
    } catch (e) {
      // runChildFrames names the wrapper shell and quotes its last line: say gst-launch instead.
      const said = e instanceof Error ? e.message : String(e);
      const fallback = WRAPPER_LINE.test(said) ? `${GST_LAUNCH} exited without saying why` : said.split('/bin/sh').join(GST_LAUNCH);
      throw failure(explainGenicamFailure(lines, fallback, cfg), lines);
    } finally {
      settled = true;
    }
    if (failed && !signal.aborted) throw failure(explainGenicamFailure(lines, `${GST_LAUNCH} failed`, cfg), lines);
  };
  // A hardware-triggered camera on an idle line sends nothing: aravissrc's frame timeout then ends
  // the stream, which is not a fault; the session restarts at once and the camera stays healthy.
  const hardware = cfg.trigger?.mode === 'hardware';
  const failure = (reason: string, lines: readonly string[]): Error => (hardware && isFrameTimeout(lines) ? new StreamIdle(reason) : new Error(reason));
  return new StreamSource('genicam', `genicam ${cfg.camera}`, session, { ...timingOf(cfg, ctx), idleOk: hardware }, log);
}
