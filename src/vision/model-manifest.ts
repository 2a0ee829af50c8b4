import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, LinesideError, reasonOf } from '../domain/errors.js';
import { autofillGapMessage, manifestFromOnnx, mergeManifest, type Autofill, type ManifestDraft } from './manifest-autofill.js';
import { manifestSchema, type Manifest } from './manifest.js';
import { readOnnxInfoFromBuffer } from './onnx-info.js';
import { tfjsManifestCandidates } from './tfjs-model-files.js';

export interface ResolvedManifest {
  readonly manifest: Manifest;
  /** Where it came from: the manifest file, or "metadata of <model>". */
  readonly source: string;
  /** Assumptions made and gaps filled, for the log and the infer tool. */
  readonly notes: readonly string[];
}

/**
 * The manifest a model runs with: what the ONNX file says about itself (Ultralytics and anomalib
 * metadata, input shape) with the user's manifest over it, key by key. A file that is not ONNX is
 * refused here, with its name. Without a manifest file the model must describe itself fully; its
 * sha256 is then the file's own, recorded with every inspection. A manifest file must state its
 * sha256 (so a swapped model file is refused) unless `allowUnpinned` (the infer tool).
 */
export async function resolveManifest(modelPath: string, bytes: Uint8Array, manifestPath: string | undefined, opts: { allowUnpinned?: boolean } = {}): Promise<ResolvedManifest> {
  const info = readOnnxInfoFromBuffer(bytes, modelPath);
  const auto = manifestFromOnnx(info, { name: basename(modelPath).replace(/\.onnx$/i, '') });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return resolveWith(modelPath, { sha256, what: "the file's" }, auto, manifestPath, opts);
}

/**
 * The manifest of a TF.js graph model. model.json carries nothing lineside could fill a manifest
 * from (no class names, no preprocessing), so the manifest file is required; `sha256` is the
 * model's (tfjsModelSha256: model.json, then its weight shards in manifest order).
 */
export async function resolveTfjsManifest(modelJson: string, sha256: string, manifestPath: string | undefined, opts: { allowUnpinned?: boolean } = {}): Promise<ResolvedManifest> {
  if (!manifestPath) {
    throw new LinesideError(
      ErrorCode.modelLoad,
      `TF.js model ${modelJson} has no manifest (looked for ${tfjsManifestCandidates(modelJson).map((p) => basename(p)).join(', ')} beside it): a TF.js model says nothing about its classes or preprocessing`,
    );
  }
  // Default name: the JSON's stem (blazeface.json), or its folder's name for a plain model.json.
  const stem = basename(modelJson).replace(/\.json$/i, '');
  const name = stem.toLowerCase() === 'model' ? basename(dirname(modelJson)) : stem;
  const auto: Autofill = { source: 'none', manifest: { name }, missing: [], unstated: [], notes: [] };
  return resolveWith(modelJson, { sha256, what: "the model's (model.json, then its weight files in manifest order)" }, auto, manifestPath, opts);
}

async function resolveWith(
  modelPath: string,
  hash: { readonly sha256: string; readonly what: string },
  auto: Autofill,
  manifestPath: string | undefined,
  opts: { allowUnpinned?: boolean },
): Promise<ResolvedManifest> {
  const { sha256 } = hash;
  const notes = [...auto.notes];
  let draft: ManifestDraft;
  let source: string;
  if (manifestPath) {
    const user = await readManifestFile(manifestPath);
    if (user.sha256 === undefined) {
      if (!opts.allowUnpinned) throw new LinesideError(ErrorCode.modelLoad, `model manifest ${manifestPath}: sha256: required (${hash.what} is ${sha256})`);
      notes.push(`manifest has no sha256; used ${hash.what} (${sha256}): add it before deploying`);
      user.sha256 = sha256;
    }
    draft = mergeManifest(auto.manifest, user);
    source = manifestPath;
  } else {
    const gap = autofillGapMessage(modelPath, auto);
    if (gap) throw new LinesideError(ErrorCode.modelLoad, gap);
    draft = { ...auto.manifest, sha256 };
    source = `metadata of ${modelPath}`;
    notes.push(`no manifest: read from the model's own metadata (${auto.source}); sha256 ${sha256.slice(0, 12)}… is the file's`);
  }
  // Documentary keys a self-describing file may not carry: say so in the record rather than refuse.
  for (const [key, value] of [['version', 'unversioned'], ['intendedUse', 'not stated'], ['licence', 'not stated']] as const) {
    if (draft[key] === undefined) {
      draft[key] = value;
      notes.push(`${key} not stated; recorded as "${value}"`);
    }
  }
  const parsed = manifestSchema.safeParse(draft);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LinesideError(ErrorCode.modelLoad, `model manifest ${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { manifest: parsed.data, source, notes };
}

async function readManifestFile(path: string): Promise<ManifestDraft> {
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
    throw new LinesideError(ErrorCode.modelLoad, `model manifest ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${reasonOf(cause)}`, { cause });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new LinesideError(ErrorCode.modelLoad, `model manifest ${path}: (root): expected an object`);
  return { ...(raw as ManifestDraft) };
}
