import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, LinesideError } from '../domain/errors.js';

/**
 * A model manifest: the small file beside an `.onnx` that says how to feed it and how to read its
 * outputs (DESIGN.md, Models). JSON or YAML.
 */
export const manifestSchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().min(1),
  task: z.enum(['classify', 'detect']),
  decoder: z.enum(['softmax', 'yolov8']),
  input: z.strictObject({
    name: z.string().min(1).optional(),
    width: z.number().int().min(8).max(4096),
    height: z.number().int().min(8).max(4096),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    channels: z.enum(['RGB', 'BGR']).default('RGB'),
    /** `0-1` divides by 255 before mean/std; `0-255` keeps raw pixel values. */
    scale: z.enum(['0-1', '0-255']).default('0-1'),
    mean: z.tuple([z.number(), z.number(), z.number()]).default([0, 0, 0]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([1, 1, 1]),
    resize: z.enum(['stretch', 'letterbox']).default('stretch'),
    letterboxAlign: z.enum(['center', 'top-left']).default('center'),
    /** Letterbox padding, 0–255 per channel value. */
    padValue: z.number().int().min(0).max(255).default(114),
  }),
  /** Output tensor names, in the order the decoder reads them (defaults to the model's own order). */
  outputs: z.array(z.string().min(1)).optional(),
  classes: z.array(z.string().min(1)).min(1),
  thresholds: z
    .strictObject({
      score: z.number().min(0).max(1).default(0.25),
      iou: z.number().min(0).max(1).default(0.45),
    })
    .default({ score: 0.25, iou: 0.45 }),
  /** Softmax decoder: whether the graph already applies softmax (else the decoder does). */
  softmaxApplied: z.boolean().default(true),
  intendedUse: z.string().min(1),
  licence: z.string().min(1),
  /** sha256 of the .onnx file; checked at load. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** How the model was made (script, seed, data), for the record. */
  provenance: z.record(z.string(), z.unknown()).optional(),
});

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;

export async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new LinesideError(ErrorCode.modelLoad, `cannot read model manifest ${path}`, { cause });
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new LinesideError(ErrorCode.modelLoad, `model manifest ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}`, { cause });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LinesideError(ErrorCode.modelLoad, `model manifest ${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
