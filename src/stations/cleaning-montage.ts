import sharp, { type OverlayOptions } from 'sharp';
import type { Finding } from '../domain/detection.js';
import type { Frame } from '../domain/frame.js';
import { openImage } from '../vision/image.js';

/**
 * The views of one cleaning verification side by side in one image, left to right in the order
 * they were taken, so the evidence of the check shows every view with its residue, not only the
 * worst. Findings are moved with their view (box x offset by the views to its left).
 */
export async function cleaningMontage(views: ReadonlyArray<{ frame: Frame; findings: readonly Finding[] }>): Promise<{ frame: Frame; findings: Finding[] }> {
  const decoded = await Promise.all(views.map((v) => openImage(v.frame).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })));
  const width = decoded.reduce((a, d) => a + d.info.width, 0);
  const height = Math.max(...decoded.map((d) => d.info.height));
  let left = 0;
  const composites: OverlayOptions[] = [];
  const findings: Finding[] = [];
  decoded.forEach((d, i) => {
    composites.push({ input: d.data, raw: { width: d.info.width, height: d.info.height, channels: d.info.channels as 3 }, left, top: 0 });
    for (const f of views[i]!.findings) findings.push(f.box ? { ...f, box: { ...f.box, x: f.box.x + left } } : f);
    left += d.info.width;
  });
  const data = await sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } }).composite(composites).raw().toBuffer();
  const first = views[0]!.frame;
  return { frame: { data, raw: { width, height, channels: 3 }, capturedAt: first.capturedAt, origin: views.map((v) => v.frame.origin).join(' ') }, findings };
}
