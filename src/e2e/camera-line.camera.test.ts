import type { ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../main.js';
import { readSimCounters, readTags } from '../plc/sim/sim-counters.client.js';
import { DEBIAN_PYTHON, hasRtspServerPackages, killPeer, requireSystem, RTSP_SERVER_SCRIPT, startPeer } from '../sources/testing/peers.js';
import { demoConfig, startAppliance, waitFor } from './harness.js';

async function rtspServer(port: number): Promise<{ proc: ChildProcess; port: number }> {
  const { proc, line } = await startPeer(DEBIAN_PYTHON, [RTSP_SERVER_SCRIPT, String(port), '640', '400', '15']);
  return { proc, port: Number(line) };
}

/**
 * The whole appliance on a live RTSP camera with the simulated PLC: triggered parts are inspected on
 * frames from the stream; when the camera dies the PLC sees the "camera lost" bit and Ready drop
 * (and, interlocked, stops the conveyor); when it returns, both recover and parts flow again,
 * without restarting lineside.
 */
describe('end to end: a line on an RTSP camera', () => {
  beforeAll(() => requireSystem('GStreamer RTSP server', hasRtspServerPackages, 'python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly'));

  let app: Appliance | undefined;
  let server: ChildProcess | undefined;
  afterEach(async () => {
    await app?.stop();
    await killPeer(server);
    app = server = undefined;
  });

  it('tells the PLC when the camera is lost and when it is back', async () => {
    const first = await rtspServer(0);
    server = first.proc;
    app = await startAppliance(
      demoConfig((c) => {
        c.stations = c.stations.filter((s) => s.id === 'blister');
        c.stations[0]!.source = { type: 'rtsp', url: `rtsp://127.0.0.1:${first.port}/line`, stallAfterMs: 1500 };
        c.plc.simulate = { windowMs: 1500, stations: { blister: { partsPerMinute: 300 } } };
      }),
    );
    const endpoint = app.sim!.endpoint;
    const plcSees = async () => {
      const [word, ready] = await readTags(endpoint, ['ns=1;s=blister.AlarmWord', 'ns=1;s=blister.Ready']);
      return { cameraLost: (Number(word) & 1) === 1, ready: ready === true };
    };
    await waitFor(async () => (await readSimCounters(endpoint, 'blister')).ResultsReceived >= 10, 20_000, '10 parts answered');

    await killPeer(server);
    await waitFor(async () => (await plcSees()).cameraLost, 8000, 'AlarmWord bit 0 (camera lost) at the PLC');
    expect((await plcSees()).ready).toBe(false);

    server = (await rtspServer(first.port)).proc;
    await waitFor(async () => !(await plcSees()).cameraLost, 12_000, 'camera lost cleared at the PLC');
    expect((await plcSees()).ready).toBe(true);
    const resumed = (await readSimCounters(endpoint, 'blister')).ResultsReceived;
    await waitFor(async () => (await readSimCounters(endpoint, 'blister')).ResultsReceived >= resumed + 10, 15_000, '10 more parts answered');

    app.sim!.setPartsPerMinute('blister', 0);
    await new Promise((r) => setTimeout(r, 1600));
    const plc = await readSimCounters(endpoint, 'blister');
    expect(plc.Mismatched).toBe(0);
    // Triggers that found no frame (camera dying mid-part) are answered not-inspected, never pass; none time out.
    expect(plc.TimedOut).toBe(0);
    const db = new Database(app.store.file, { readonly: true });
    const alarms = db.prepare(`SELECT raised_at, cleared_at FROM alarms WHERE station_id = 'blister' AND category = 'cameraLost'`).all() as Array<{ raised_at: number; cleared_at: number | null }>;
    const origins = db.prepare(`SELECT COUNT(*) AS n FROM inspections WHERE station_id = 'blister' AND frame_origin LIKE 'rtsp #%'`).get() as { n: number };
    db.close();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.cleared_at).not.toBeNull();
    expect(origins.n).toBeGreaterThanOrEqual(20);
  });
});
