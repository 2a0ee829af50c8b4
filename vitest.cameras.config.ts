import { defineConfig } from 'vitest/config';

/**
 * Camera suite: real camera servers on loopback (GStreamer RTSP server, ffmpeg MJPEG, Aravis fake
 * GigE Vision camera). Needs the Debian packages `.ci/run` installs; a missing one fails with the
 * package to install.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.camera.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The servers and decoders are heavy on a 2-core box: one file at a time.
    fileParallelism: false,
  },
});
