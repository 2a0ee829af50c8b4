import { spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../domain/frame.js';
import { silentLogger } from '../observability/logger.js';
import {
  checkGenicamPrerequisites,
  describeGenicamPipeline,
  explainGenicamFailure,
  GENICAM_PACKAGES,
  genicamSource,
  genicamSourceSchema,
  type GenicamSourceConfig,
} from './genicam.source.js';
import type { StreamSource } from './stream-source.js';
import { watchCamera } from './testing/camera-watch.js';
import { frameRate, hasCommand, killPeer, requireSystem, startPeer, until } from './testing/peers.js';

const CAMERA = '127.0.0.1';
const SERIAL = 'LS01';
const GVCP_PORT = 3956;

/**
 * Registers of Aravis' fake GigE Vision camera (its GenICam XML, read from the camera over GVCP):
 * the test reads them back over GVCP, as a second client beside gst-launch (reads need no control).
 */
const REG = {
  width: 0x100,
  height: 0x104,
  gainRaw: 0x110,
  exposureTimeAbs: 0x120,
  acquisitionFramePeriodUs: 0x138,
  triggerModeFrameStart: 0x300,
  triggerSourceFrameStart: 0x304,
  /** GigE Vision bootstrap: Control Channel Privilege (0 = no application controls the camera). */
  controlPrivilege: 0xa00,
  /** GigE Vision bootstrap: serial number, 16 bytes. */
  serialNumber: 0xd8,
} as const;

let gvcpId = 1;

/** One GVCP command to the fake camera; resolves with the acknowledge, or null if nothing answers. */
async function gvcp(command: number, payload: Buffer, host = CAMERA): Promise<Buffer | null> {
  const sock = createSocket('udp4');
  sock.on('error', () => undefined);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = (gvcpId = (gvcpId % 0xfffe) + 1);
      const header = Buffer.alloc(8);
      header.writeUInt8(0x42, 0); // GVCP key
      header.writeUInt8(0x01, 1); // acknowledge required
      header.writeUInt16BE(command, 2);
      header.writeUInt16BE(payload.length, 4);
      header.writeUInt16BE(id, 6);
      const reply = await new Promise<Buffer | null>((resolve) => {
        const onMessage = (m: Buffer): void => {
          if (m.length < 8 || m.readUInt16BE(6) !== id) return;
          clearTimeout(timer);
          sock.off('message', onMessage);
          resolve(m);
        };
        const timer = setTimeout(() => {
          sock.off('message', onMessage);
          resolve(null);
        }, 300);
        sock.on('message', onMessage);
        sock.send(Buffer.concat([header, payload]), GVCP_PORT, host);
      });
      if (reply) {
        if (reply.readUInt16BE(0) !== 0) throw new Error(`GVCP status 0x${reply.readUInt16BE(0).toString(16)}`);
        return reply;
      }
    }
    return null;
  } finally {
    sock.close();
  }
}

async function readRegister(address: number): Promise<number> {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(address);
  const ack = await gvcp(0x0080, p); // READREG_CMD
  if (!ack) throw new Error(`fake camera does not answer (register 0x${address.toString(16)})`);
  return ack.readUInt32BE(8);
}

async function readSerial(host = CAMERA): Promise<string | null> {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(REG.serialNumber, 0);
  p.writeUInt16BE(16, 6);
  const ack = await gvcp(0x0084, p, host).catch(() => null); // READMEM_CMD
  return ack ? ack.subarray(12, 28).toString('latin1').replace(/\0.*$/s, '') : null;
}

/** arv-fake-gv-camera on loopback; ready once it answers GVCP with our serial number. */
async function startFakeCamera(): Promise<ChildProcess> {
  const { proc } = await startPeer('arv-fake-gv-camera-0.8', ['-i', CAMERA, '-s', SERIAL], { readyLine: false });
  proc.stdout?.resume();
  try {
    await until(async () => (await readSerial()) === SERIAL, 5000, 'the fake GigE Vision camera to answer');
  } catch (e) {
    await killPeer(proc);
    throw e;
  }
  return proc;
}

/** gst-launch children of this test (and their shell wrappers): there must be none after each test. */
function ourChildren(): string[] {
  const r = spawnSync('pgrep', ['-a', '-f', 'aravissrc camera-name=127\\.0\\.0\\.']);
  return r.stdout.toString().split('\n').filter(Boolean);
}

/** What the fake camera renders (Mono8 only): ((x + y + frame id) % 255) × (1 + gain + log10(exposure / 10 000 µs)), clipped. */
function expectedMean(exposureUs: number, gain: number, width: number, height: number): number {
  const scale = 1 + gain + Math.log10(exposureUs / 10_000);
  let sum = 0;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) sum += Math.min(255, Math.max(0, Math.trunc(((x + y) % 255) * scale)));
  return sum / (width * height);
}

function mean(frame: Frame): number {
  let sum = 0;
  for (const v of frame.data) sum += v;
  return sum / frame.data.length;
}

const config = (extra: Record<string, unknown> = {}): GenicamSourceConfig => genicamSourceSchema.parse({ type: 'genicam', camera: CAMERA, stallAfterMs: 2000, ...extra });

/** Frames per second over `ms`, counted from the source's own stats. */
describe('GenICam configuration', () => {
  it('rejects feature names that are not GenICam identifiers, and anything that could add pipeline syntax', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ features: { 'Trigger Mode': 'On' } }, 'features'],
      [{ features: { 'Gain ! filesink location=/tmp/x': 1 } }, 'features'],
      [{ features: { 'R[0x120]': 5 } }, 'features'],
      [{ features: { '1Gain': 5 } }, 'features'],
      [{ features: { DeviceUserID: 'a b' } }, 'features'],
      [{ features: { DeviceUserID: "x' Gain='9" } }, 'features'],
      [{ camera: '127.0.0.1 ! filesink location=/tmp/x' }, 'camera'],
      [{ camera: '10.0.0.9"' }, 'camera'],
      [{ trigger: { mode: 'hardware', line: 'Line1 TriggerMode=Off' } }, 'trigger'],
      [{ exposureUs: 5000, exposureAuto: 'continuous' }, 'exposureUs'],
      [{ trigger: { mode: 'free' }, features: { TriggerMode: 'On' } }, 'features'],
      [{ features: { PixelFormat: 'Mono8' } }, 'features'],
      [{ pixels: 'bayer' }, 'pixels'],
    ];
    for (const [extra, path] of bad) {
      const r = genicamSourceSchema.safeParse({ type: 'genicam', camera: CAMERA, ...extra });
      expect(r.success, JSON.stringify(extra)).toBe(false);
      expect(r.error!.issues[0]!.path[0], JSON.stringify(extra)).toBe(path);
    }
    expect(genicamSourceSchema.safeParse({ type: 'genicam', camera: 'Basler-40012345', features: { ReverseX: true, AcquisitionFrameRate: 12.5, LineSelector: 'Line2' } }).success).toBe(true);
  });

  it('builds the gst-launch argv with one element per name=value', () => {
    const cfg = config({
      exposureUs: 2500,
      gainDb: 3.5,
      packetSize: 8192,
      pixels: 'grey',
      trigger: { mode: 'hardware', line: 'Line1', activation: 'RisingEdge' },
      features: { AcquisitionFrameRate: 10, ReverseX: true },
    });
    expect(describeGenicamPipeline(cfg)).toEqual([
      'gst-launch-1.0',
      '-q',
      'aravissrc',
      'camera-name=127.0.0.1',
      'num-arv-buffers=10',
      'exposure-auto=off',
      'exposure=2500',
      'gain-auto=off',
      'gain=3.5',
      'packet-size=8192',
      'features=TriggerSelector=FrameStart TriggerMode=On TriggerSource=Line1 TriggerActivation=RisingEdge AcquisitionFrameRate=10 ReverseX=true',
      '!',
      'videoconvert',
      '!',
      'video/x-raw,format=GRAY8',
      '!',
      'pnmenc',
      '!',
      'fdsink',
      'fd=1',
    ]);
    expect(describeGenicamPipeline(config({ gainAuto: 'continuous' }))).toContain('gain-auto=on');
    expect(describeGenicamPipeline(config())).toContain('video/x-raw,format=RGB');
  });

  it("explains what gst-launch prints in an operator's words", () => {
    const cfg = config({ camera: '10.0.0.9' });
    const notFound = [
      'ERROR: from element /GstPipeline:pipeline0/GstAravis:aravis0: Could not find camera "10.0.0.9": Can\'t connect to device at address \'10.0.0.9\'',
      'Additional debug info:',
      '../gst/gstaravis.c(449): gst_aravis_init_error (): /GstPipeline:pipeline0/GstAravis:aravis0',
      "ERROR: pipeline doesn't want to preroll.",
      'ERROR: from element /GstPipeline:pipeline0/GstAravis:aravis0: GStreamer error: state change failed and some element failed to post a proper error message with the reason for the failure.',
      'Failed to set pipeline to PAUSED.',
    ];
    expect(explainGenicamFailure(notFound, 'Failed to set pipeline to PAUSED.', cfg)).toMatch(/^GigE Vision camera 10\.0\.0\.9 not found: nothing answers at 10\.0\.0\.9/);
    const bayerOnly = [
      'ERROR: from element /GstPipeline:pipeline0/GstAravis:aravis0: Internal data stream error.',
      'Additional debug info:',
      '../libs/gst/base/gstbasesrc.c(3132): gst_base_src_loop (): /GstPipeline:pipeline0/GstAravis:aravis0:',
      'streaming stopped, reason not-negotiated (-4)',
    ];
    expect(explainGenicamFailure(bayerOnly, 'x', cfg)).toMatch(/offers no pixel format that converts to RGB/);
    expect(explainGenicamFailure(['gst-launch-1.0: 5: gst-launch-1.0: not found'], 'x', cfg)).toBe(`gst-launch-1.0 is not installed: apt-get install ${GENICAM_PACKAGES}`);
    expect(explainGenicamFailure(['something else'], 'the fallback', cfg)).toBe('the fallback');
  });

  it('names the Debian packages to install when GStreamer or an element is missing', async () => {
    expect(await checkGenicamPrerequisites('/nonexistent/gst-inspect-1.0')).toMatch(new RegExp(`not installed.*apt-get install ${GENICAM_PACKAGES}`));
    // A gst-inspect that knows every element but aravissrc.
    const dir = mkdtempSync(join(tmpdir(), 'lineside-genicam-'));
    const inspect = join(dir, 'gst-inspect-1.0');
    writeFileSync(inspect, '#!/bin/sh\n[ "$1" = aravissrc ] && exit 1\nexit 0\n');
    chmodSync(inspect, 0o755);
    expect(await checkGenicamPrerequisites(inspect)).toBe('GStreamer element aravissrc not installed: apt-get install libaravis-0.8-0, then restart lineside');
  });
});

describe('GigE Vision camera (Aravis fake camera on loopback, read by gst-launch aravissrc)', () => {
  beforeAll(async () => {
    requireSystem('arv-fake-gv-camera-0.8', () => hasCommand('arv-fake-gv-camera-0.8'), 'aravis-tools');
    requireSystem('gst-launch-1.0', () => hasCommand('gst-launch-1.0') && hasCommand('gst-inspect-1.0'), 'gstreamer1.0-tools');
    requireSystem('GStreamer aravissrc element', () => spawnSync('gst-inspect-1.0', ['aravissrc']).status === 0, 'libaravis-0.8-0');
    requireSystem('GStreamer videoconvert/pnmenc elements', () => ['videoconvert', 'pnmenc'].every((e) => spawnSync('gst-inspect-1.0', [e]).status === 0), 'gstreamer1.0-plugins-base gstreamer1.0-plugins-bad');
    // The fake camera binds the GVCP port on the interface: only one can run.
    const other = await readSerial();
    if (other !== null) throw new Error(`a GigE Vision camera (serial ${JSON.stringify(other)}) already answers on ${CAMERA}:${GVCP_PORT}: stop the stray arv-fake-gv-camera first`);
  });

  let camera: ChildProcess | undefined;
  let source: StreamSource | undefined;
  let watch: ReturnType<typeof watchCamera> | undefined;
  afterEach(async () => {
    watch?.stop();
    await source?.stop();
    await killPeer(camera);
    watch = source = camera = undefined;
    await until(() => ourChildren().length === 0, 3000, 'no gst-launch left running').catch(() => {
      throw new Error(`gst-launch children left running:\n${ourChildren().join('\n')}`);
    });
  });

  it("delivers frames at the camera's own rate and size, as raw RGB pixels, and a frame after a trigger time", async () => {
    camera = await startFakeCamera();
    source = genicamSource(config(), { history: 8, logger: silentLogger() });
    expect(source.description).toBe('genicam 127.0.0.1');
    await source.start();
    await until(() => source!.stats().framesReceived > 0, 10_000, 'first frame');

    const rate = await frameRate(source, 3000);
    const period = await readRegister(REG.acquisitionFramePeriodUs);
    const cameraRate = 1e6 / period; // AcquisitionFrameRate = 1e6 / AcquisitionFramePeriod
    const [width, height] = [await readRegister(REG.width), await readRegister(REG.height)];
    console.log(`genicam: ${rate.toFixed(2)} frames/s measured; the camera's AcquisitionFrameRate is ${cameraRate} Hz; ${width}×${height}`);
    expect(cameraRate).toBe(25);
    expect(Math.abs(rate - cameraRate) / cameraRate).toBeLessThan(0.15);
    expect(source.stats()).toMatchObject({ width, height });
    expect(source.health().state).toBe('ok');

    const trigger = Date.now();
    const frame = await source.grab({ after: trigger, timeoutMs: 1000 });
    expect(frame.capturedAt).toBeGreaterThanOrEqual(trigger);
    expect(frame.capturedAt - trigger).toBeLessThan(200);
    expect(frame.raw).toEqual({ width, height, channels: 3 });
    expect(frame.data.length).toBe(width * height * 3);
  });

  it('sets exposure and gain on the camera: read back from its registers and seen in the image brightness', async () => {
    camera = await startFakeCamera();
    // One source after another on the same camera: each must take control at once and apply its own settings.
    const cases = [
      { exposureUs: 1000, gainDb: 0 }, // scale 1 + 0 + log10(0.1) = 0: black
      { exposureUs: 10_000, gainDb: 0 }, // scale 1
      { exposureUs: 10_000, gainDb: 1 }, // scale 2
      { exposureUs: 31_623, gainDb: 0 }, // scale 1.5
    ];
    const seen: string[] = [];
    for (const c of cases) {
      source = genicamSource(config({ ...c, pixels: 'grey' }), { history: 1, logger: silentLogger() });
      const startedAt = Date.now();
      await source.start();
      const frame = await source.grab({ timeoutMs: 5000 });
      const firstFrameMs = Date.now() - startedAt;
      // While gst-launch streams, the camera's own registers hold the configured values.
      expect(await readRegister(REG.exposureTimeAbs)).toBe(c.exposureUs);
      expect(await readRegister(REG.gainRaw)).toBe(c.gainDb);
      expect(frame.raw).toMatchObject({ channels: 1 });
      const got = mean(frame);
      const want = expectedMean(c.exposureUs, c.gainDb, frame.raw!.width, frame.raw!.height);
      expect(Math.abs(got - want), `mean ${got} for ${JSON.stringify(c)}, expected ${want}`).toBeLessThan(2);
      seen.push(`${c.exposureUs} µs/${c.gainDb} dB → mean ${got.toFixed(1)} (first frame ${firstFrameMs} ms)`);
      await source.stop();
      source = undefined;
      // Stopped cleanly: gst-launch released the camera's control channel.
      expect(await readRegister(REG.controlPrivilege)).toBe(0);
    }
    console.log(`genicam exposure/gain: ${seen.join('; ')}`);
  });

  it('passes extra GenICam features to the camera (AcquisitionFrameRate 10 → 10 frames/s)', async () => {
    camera = await startFakeCamera();
    source = genicamSource(config({ features: { AcquisitionFrameRate: 10 } }), { history: 1, logger: silentLogger() });
    await source.start();
    await until(() => source!.stats().framesReceived > 0, 10_000, 'first frame');
    const rate = await frameRate(source, 3000);
    expect(await readRegister(REG.acquisitionFramePeriodUs)).toBe(100_000);
    console.log(`genicam: AcquisitionFrameRate=10 → ${rate.toFixed(2)} frames/s`);
    expect(rate).toBeGreaterThan(8.5);
    expect(rate).toBeLessThan(11.5);
  });

  it('asks the camera for the configured image size (Width/Height negotiated through the pipeline)', async () => {
    camera = await startFakeCamera();
    source = genicamSource(config({ width: 1920, height: 1080 }), { history: 1, logger: silentLogger() });
    await source.start();
    const f = await source.grab({ timeoutMs: 10_000 });
    expect(f.raw).toEqual({ width: 1920, height: 1080, channels: 3 });
    expect(source.stats()).toMatchObject({ width: 1920, height: 1080 });
    // The camera itself was set, not the image scaled afterwards.
    expect([await readRegister(REG.width), await readRegister(REG.height)]).toEqual([1920, 1080]);
  });

  it('puts the camera in hardware-trigger mode on the configured line; an unknown line is named in the reason', async () => {
    camera = await startFakeCamera();
    // The fake camera's trigger lines: Line0 (hardware, nothing wired on loopback) and Software.
    const triggered = config({ trigger: { mode: 'hardware', line: 'Line0' } });
    source = genicamSource(triggered, { history: 4, logger: silentLogger() });
    await source.start();
    await until(async () => (await readRegister(REG.triggerModeFrameStart)) === 1, 5000, 'TriggerMode=On on the camera');
    expect(await readRegister(REG.triggerSourceFrameStart)).toBe(0); // Line0
    // Stopped while waiting for a trigger: gst-launch still says goodbye and releases the camera.
    const stopAt = Date.now();
    await source.stop();
    const stopMs = Date.now() - stopAt;
    expect(await readRegister(REG.controlPrivilege)).toBe(0);
    console.log(`genicam: stopped while waiting for a trigger in ${stopMs} ms, camera released`);

    // No trigger, no frame: an idle line, not a fault. aravissrc gives up after 2 s; the source
    // starts it again at once and the camera stays healthy, armed for the next trigger.
    source = genicamSource(triggered, { history: 4, logger: silentLogger() });
    const watch = watchCamera(source);
    await source.start();
    await new Promise((r) => setTimeout(r, 5000));
    expect(source.stats().framesReceived).toBe(0);
    expect(source.health()).toMatchObject({ state: 'ok', detail: 'waiting for triggers' });
    expect(watch.cameraLost()).toBe(false);
    expect(await readRegister(REG.triggerModeFrameStart)).toBe(1);
    // A triggered camera that dies is still noticed: it no longer answers when the source re-arms.
    await killPeer(camera);
    await until(() => source!.health().state === 'down', 15_000, 'health down once the camera is gone');
    expect(source.health().detail).toMatch(/not found/);
    await until(() => watch.cameraLost(), 5000, 'camera lost alarm');
    watch.stop();
    await source.stop();
    camera = await startFakeCamera();

    // Back to free-running on the same camera: the trigger is switched off again and frames flow.
    source = genicamSource(config({ trigger: { mode: 'free' } }), { history: 1, logger: silentLogger() });
    await source.start();
    await until(() => source!.stats().framesReceived > 2, 10_000, 'frames when free-running');
    expect(await readRegister(REG.triggerModeFrameStart)).toBe(0);
    await source.stop();

    source = genicamSource(config({ trigger: { mode: 'hardware', line: 'Line1' } }), { history: 1, logger: silentLogger() });
    await source.start();
    await until(() => source!.health().state === 'down', 10_000, 'health down');
    expect(source.health().detail).toBe('GigE Vision camera 127.0.0.1 does not accept TriggerSource=Line1: not one of its values');
  });

  it('goes down within stallAfterMs + 1 s when the camera dies, and resumes within 10 s when it is back, on the same source', async () => {
    camera = await startFakeCamera();
    // The default stall budget: aravissrc's own 2 s frame timeout ends the stream first, with its reason.
    const cfg = config({ stallAfterMs: 3000 });
    source = genicamSource(cfg, { history: 1, logger: silentLogger() });
    watch = watchCamera(source);
    await source.start();
    await until(() => source!.stats().framesReceived > 5, 10_000, 'frames');

    await killPeer(camera);
    const killedAt = Date.now();
    await until(() => source!.health().state === 'down', cfg.stallAfterMs + 1000, 'health down after the camera died');
    const downMs = Date.now() - killedAt;
    const reason = source.health().detail;
    expect(reason).toMatch(/^GigE Vision camera 127\.0\.0\.1 stopped sending frames: none for 2 s$|stalled/);
    await until(() => watch!.cameraLost(), 6000, 'camera lost alarm');
    expect(watch.word() & 1).toBe(1);

    // Let a reconnection fail against the dead camera first (aravis gives up on an address after ~5 s).
    await until(() => /not found/.test(source!.health().detail ?? ''), 15_000, 'a failed reconnection while the camera is gone');
    expect(source.health().detail).toBe('GigE Vision camera 127.0.0.1 not found: nothing answers at 127.0.0.1 (power, cable, and same subnet as this machine?)');

    const restartedAt = Date.now();
    const before = source.stats().framesReceived;
    camera = await startFakeCamera();
    const answeredMs = Date.now() - restartedAt;
    await until(() => source!.stats().framesReceived > before, 10_000, 'frames after the camera restarted');
    const resumeMs = Date.now() - restartedAt;
    expect(source.health().state).toBe('ok');
    await until(() => !watch!.cameraLost(), 3000, 'camera lost cleared');
    expect(source.stats().restarts).toBeGreaterThan(0);
    console.log(`genicam: down ${downMs} ms after the camera died ("${reason}"); frames resumed ${resumeMs} ms after it was restarted (it answered after ${answeredMs} ms)`);
  });

  it('says "not found" when nothing answers at the address, and a grab fails with that reason', async () => {
    source = genicamSource(config({ camera: '127.0.0.2' }), { history: 1, logger: silentLogger() });
    await source.start();
    await until(() => source!.health().state === 'down', 10_000, 'health down');
    expect(source.health().detail).toMatch(/^GigE Vision camera 127\.0\.0\.2 not found: nothing answers at 127\.0\.0\.2/);
    await expect(source.grab({ timeoutMs: 300 })).rejects.toThrow(/no frame from genicam 127\.0\.0\.2 within 300 ms: GigE Vision camera 127\.0\.0\.2 not found/);
  });
});
