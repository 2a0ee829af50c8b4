/**
 * The files of a TF.js model on disk — `model.json` and the weight shards its `weightsManifest`
 * lists — found, parsed and checked without loading TF.js, so the main thread can tell a graph
 * model from anything else and every error names the file at fault.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';

export const MODEL_JSON = 'model.json';

/** One weight as model.json describes it (tf.io.WeightsManifestEntry, the fields read here). */
export interface TfjsWeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface TfjsWeightGroup {
  paths: string[];
  weights: TfjsWeightEntry[];
}

/** model.json as written by tensorflowjs_converter (tf.io.ModelJSON, the fields read here). */
export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: Record<string, unknown>;
  weightsManifest: TfjsWeightGroup[];
  signature?: Record<string, unknown>;
  userDefinedMetadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface TfjsModelFiles {
  /** Absolute path of model.json. */
  readonly modelJson: string;
  readonly json: TfjsModelJson;
  /** Absolute paths of the weight shards, in manifest order (the order their bytes concatenate). */
  readonly weightFiles: readonly string[];
  /** Bytes the weight specs need, or undefined when a string weight makes it unknowable up front. */
  readonly weightBytes: number | undefined;
}

/**
 * model.json's path for `path` — a `.json` path (existing or not), or an existing folder (holding
 * model.json or not) — or undefined for anything else (an `.onnx` file). Reads nothing.
 */
export function modelJsonPathFor(path: string): string | undefined {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Missing: a `.json` path is still TF.js's to report as missing.
  }
  if (isDir) return resolve(path, MODEL_JSON);
  return path.toLowerCase().endsWith('.json') ? resolve(path) : undefined;
}

/** What kind of TF.js model a parsed model.json holds. */
export function tfjsModelKind(json: unknown): 'graph' | 'layers' | undefined {
  if (!isObject(json)) return undefined;
  const topo = json['modelTopology'];
  if (json['format'] === 'graph-model') return 'graph';
  if (json['format'] === 'layers-model') return 'layers';
  if (!isObject(topo) || !Array.isArray(json['weightsManifest'])) return undefined;
  // Converter output before `format` existed: a GraphDef has `node`, a Keras model a class_name.
  if (Array.isArray(topo['node'])) return 'graph';
  if ('class_name' in topo || 'model_config' in topo || 'config' in topo) return 'layers';
  return undefined;
}

/** Synchronous peek used to pick a runner by path: any TF.js model.json (graph or layers) is TF.js's. */
export function peekTfjsModelKind(path: string): 'graph' | 'layers' | undefined {
  const file = modelJsonPathFor(path);
  if (!file || !existsSync(file)) return undefined;
  try {
    return tfjsModelKind(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * model.json read, checked to be a graph model, and its weight files found and sized. Throws
 * LINESIDE_ERR_MODEL_LOAD naming the file: no model.json, not JSON, a layers model, a weight shard
 * that is missing, outside the model's folder or too short for the weights it must hold.
 */
export async function readTfjsGraphModelFiles(path: string): Promise<TfjsModelFiles> {
  const modelJson = modelJsonPathFor(path);
  if (!modelJson) {
    throw new LinesideError(ErrorCode.modelLoad, existsSync(path) ? `${path} is neither a TF.js model.json nor a folder holding one` : `TF.js model ${path} does not exist`);
  }
  let text: string;
  try {
    text = await readFile(modelJson, 'utf8');
  } catch (cause) {
    throw new LinesideError(
      ErrorCode.modelLoad,
      existsSync(modelJson) ? `TF.js model file ${modelJson} cannot be read` : `TF.js model file ${modelJson} does not exist`,
      { cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new LinesideError(ErrorCode.modelLoad, `TF.js model file ${modelJson} is not JSON: ${(cause as Error).message}`, { cause });
  }
  const kind = tfjsModelKind(json);
  if (kind === 'layers') {
    throw new LinesideError(
      ErrorCode.modelLoad,
      `${modelJson} is a TF.js layers model, not a graph model: convert it with tensorflowjs_converter --input_format=tfjs_layers_model --output_format=tfjs_graph_model`,
    );
  }
  if (kind !== 'graph' || !isObject(json) || !isObject(json['modelTopology']) || !Array.isArray(json['modelTopology']['node'])) {
    throw new LinesideError(ErrorCode.modelLoad, `${modelJson} is not a TF.js graph model (no format "graph-model" and no GraphDef modelTopology with nodes)`);
  }
  const manifest = json['weightsManifest'] ?? [];
  if (!Array.isArray(manifest) || !manifest.every(isWeightGroup)) {
    throw new LinesideError(ErrorCode.modelLoad, `${modelJson}: weightsManifest is not a list of {paths, weights} groups`);
  }
  const dir = dirname(modelJson);
  const weightFiles: string[] = [];
  for (const group of manifest) {
    let groupBytes = 0;
    const files: string[] = [];
    for (const p of group.paths) {
      const file = resolve(dir, decodePath(p));
      const rel = relative(dir, file);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new LinesideError(ErrorCode.modelLoad, `${modelJson}: weight file ${p} lies outside the model's folder`);
      }
      let size: number;
      try {
        const s = await stat(file);
        if (!s.isFile()) throw new Error('not a file');
        size = s.size;
      } catch (cause) {
        throw new LinesideError(ErrorCode.modelLoad, `weight file ${file} (listed in ${basename(modelJson)}) does not exist or is not a file`, { cause });
      }
      groupBytes += size;
      files.push(file);
    }
    const need = groupByteLength(group.weights);
    if (need !== undefined && groupBytes < need) {
      throw new LinesideError(
        ErrorCode.modelLoad,
        `weight file${files.length > 1 ? 's' : ''} ${files.join(', ')} hold${files.length > 1 ? '' : 's'} ${groupBytes} bytes; ${basename(modelJson)} needs ${need} for ${group.weights.map((w) => w.name).join(', ')}`,
      );
    }
    weightFiles.push(...files);
  }
  const sizes = manifest.map((g) => groupByteLength(g.weights));
  const weightBytes = sizes.every((s): s is number => s !== undefined) ? sizes.reduce((a, b) => a + b, 0) : undefined;
  return { modelJson, json: json as TfjsModelJson, weightFiles, weightBytes };
}

/** The weight shards' bytes, concatenated in manifest order as tf.io.decodeWeights expects them. */
export async function readTfjsWeights(files: TfjsModelFiles): Promise<ArrayBuffer> {
  const parts = await Promise.all(
    files.weightFiles.map(async (f) => {
      try {
        return await readFile(f);
      } catch (cause) {
        throw new LinesideError(ErrorCode.modelLoad, `weight file ${f} cannot be read`, { cause });
      }
    }),
  );
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out.buffer;
}

/** Every file of the model (model.json first, then the shards): what a checksum must cover. */
export function tfjsModelFileList(files: TfjsModelFiles): string[] {
  return [files.modelJson, ...files.weightFiles];
}

/**
 * A TF.js model's sha256, the one its manifest pins and its version tag records: the bytes of
 * model.json followed by every weight shard in weightsManifest order (groups in order, each
 * group's paths in order) — `cat model.json group1-shard1of2.bin group1-shard2of2.bin | sha256sum`.
 * That is exactly what TF.js loads (the shards are concatenated the same way), so no byte the
 * model runs on escapes the hash, and the graph, weight names and shapes are pinned with them.
 */
export async function tfjsModelSha256(files: TfjsModelFiles): Promise<string> {
  const hash = createHash('sha256');
  for (const file of tfjsModelFileList(files)) {
    try {
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    } catch (cause) {
      throw new LinesideError(ErrorCode.modelLoad, `TF.js model file ${file} cannot be read`, { cause });
    }
  }
  return hash.digest('hex');
}

/**
 * The manifest files a TF.js model may have, best first: beside its model.json, the JSON's stem
 * with `.manifest.yaml`, `.manifest.yml` or `.manifest.json` (`model.manifest.yaml` for
 * model.json, `blazeface.manifest.yaml` for blazeface.json). Not `<stem>.json`, which for a TF.js
 * model would be the model itself.
 */
export function tfjsManifestCandidates(path: string): string[] {
  const modelJson = modelJsonPathFor(path);
  if (!modelJson) return [];
  const stem = modelJson.replace(/\.json$/i, '');
  return ['.manifest.yaml', '.manifest.yml', '.manifest.json'].map((ext) => stem + ext);
}

const BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2, int8: 1, int16: 2 };

function groupByteLength(weights: readonly TfjsWeightEntry[]): number | undefined {
  let n = 0;
  for (const w of weights) {
    const per = BYTES[w.quantization?.dtype ?? w.dtype];
    if (per === undefined) return undefined; // string weights: length-prefixed, sized only by reading
    n += per * w.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

function isWeightGroup(g: unknown): g is TfjsWeightGroup {
  return (
    isObject(g) &&
    Array.isArray(g['paths']) &&
    g['paths'].every((p) => typeof p === 'string') &&
    Array.isArray(g['weights']) &&
    g['weights'].every((w) => isObject(w) && typeof w['name'] === 'string' && typeof w['dtype'] === 'string' && Array.isArray(w['shape']) && w['shape'].every((d) => typeof d === 'number'))
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A shard path as the converter writes it (URL-relative, so `%20` may stand for a space). */
function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}
