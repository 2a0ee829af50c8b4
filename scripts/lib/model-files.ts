/**
 * Writes a model's .onnx and its manifest side by side. The manifest is validated with the
 * appliance's own schema before it is written, so a demo model can never ship a manifest the
 * runtime would refuse.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manifestSchema, type Manifest, type ManifestInput } from '../../src/vision/manifest.js';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function writeModel(dir: string, onnx: Uint8Array, manifest: Omit<ManifestInput, 'sha256'>): Promise<Manifest> {
  const parsed = manifestSchema.parse({ ...manifest, sha256: sha256(onnx) });
  await writeFile(join(dir, `${parsed.name}.onnx`), onnx);
  await writeFile(join(dir, `${parsed.name}.json`), `${JSON.stringify(parsed, null, 2)}\n`);
  return parsed;
}
