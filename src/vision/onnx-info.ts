import { readFile, stat } from 'node:fs/promises';
import { ErrorCode, LinesideError } from '../domain/errors.js';

/**
 * What an `.onnx` file says about itself, read straight from its protobuf without running it:
 * versions, opsets, metadata_props, graph inputs/outputs with element types and shapes, and whether
 * the weights live in external files. Enough for the load checks and for filling a manifest from an
 * export's metadata (manifest-autofill.ts).
 */

/** A dimension: a fixed size, a symbolic name (`batch`), or null when the file leaves it unknown. */
export type OnnxDim = number | string | null;

export interface OnnxValueInfo {
  readonly name: string;
  /** TypeProto kind; image models have `tensor` everywhere. */
  readonly kind: 'tensor' | 'sparse_tensor' | 'sequence' | 'map' | 'optional' | 'unknown';
  /** Element type in onnxruntime's spelling (`float32`, `int64`, …); `undefined` for non-tensors. */
  readonly elemType: string | undefined;
  /** Rank and dimensions; null when the file states no shape at all (rank unknown). */
  readonly shape: readonly OnnxDim[] | null;
}

export interface OnnxOpset {
  /** `''` is the default `ai.onnx` domain. */
  readonly domain: string;
  readonly version: number;
}

export interface OnnxInfo {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly opsetImports: readonly OnnxOpset[];
  /** Version of the default (`ai.onnx`) operator set, if imported. */
  readonly opset: number | undefined;
  /** ModelProto.metadata_props; a repeated key keeps its last value. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly graphName: string;
  /** Graph inputs that must be fed: initializers listed as inputs (IR < 4 exports) are left out. */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly nodeCount: number;
  readonly initializerCount: number;
  /** Some tensor (initializer, Constant node, subgraph) keeps its data in an external file. */
  readonly externalData: boolean;
  /** The `location`s those tensors name, relative to the model's folder, each once. */
  readonly externalDataFiles: readonly string[];
}

/** Protobuf refuses messages over 2 GiB; ONNX models that large keep their weights in external data. */
const MAX_MODEL_BYTES = 2 ** 31;
/** If/Loop/Scan bodies nest graphs inside nodes; real models stay a few levels deep. */
const MAX_GRAPH_DEPTH = 32;

/** TensorProto.DataType → onnxruntime's tensor type names. */
const ELEM_TYPES: readonly (string | undefined)[] = [
  undefined, 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16', 'float64',
  'uint32', 'uint64', 'complex64', 'complex128', 'bfloat16', 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2',
  'float8e5m2fnuz', 'uint4', 'int4', 'float4e2m1',
];

export async function readOnnxInfo(path: string): Promise<OnnxInfo> {
  let bytes: Buffer;
  try {
    const size = (await stat(path)).size;
    if (size > MAX_MODEL_BYTES) throw notOnnx(path, `${size} bytes is over the 2 GiB protobuf limit (large ONNX models keep weights in external data)`);
    bytes = await readFile(path);
  } catch (cause) {
    if (cause instanceof LinesideError) throw cause;
    throw new LinesideError(ErrorCode.modelLoad, `cannot read model ${path}: ${(cause as Error).message}`, { cause });
  }
  return readOnnxInfoFromBuffer(bytes, path);
}

/** Same as readOnnxInfo for bytes in memory; `label` names them in errors (a path, usually). */
export function readOnnxInfoFromBuffer(bytes: Uint8Array, label = '(buffer)'): OnnxInfo {
  if (bytes.length === 0) throw notOnnx(label, 'the file is empty');
  if (bytes.length > MAX_MODEL_BYTES) throw notOnnx(label, `${bytes.length} bytes is over the 2 GiB protobuf limit`);
  try {
    return parseModel(new ProtoReader(bytes));
  } catch (e) {
    // Garbage must end here as one clear error, whatever the parser tripped over.
    const why = e instanceof ProtoFormatError ? e.message : `unreadable (${(e as Error).message})`;
    const hint = sniff(bytes);
    throw notOnnx(label, hint ? `${hint} (${why})` : why, e);
  }
}

function notOnnx(label: string, why: string, cause?: unknown): LinesideError {
  return new LinesideError(ErrorCode.modelLoad, `model ${label} is not an ONNX model: ${why}`, cause === undefined ? {} : { cause });
}

interface Collect {
  readonly externalFiles: Set<string>;
  external: boolean;
}

/** ModelProto (onnx.proto field numbers). Unknown fields are skipped, as protobuf intends. */
function parseModel(r: ProtoReader): OnnxInfo {
  let irVersion: number | undefined;
  let producerName = '';
  let producerVersion = '';
  let domain = '';
  let modelVersion = 0;
  let docString = '';
  const opsetImports: OnnxOpset[] = [];
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  let graph: GraphFacts | undefined;
  const collect: Collect = { externalFiles: new Set(), external: false };

  r.message(0, r.length, 'ModelProto', (f) => {
    switch (f.no) {
      case 1: irVersion = r.int64(f, 'ir_version'); break;
      case 2: producerName = r.string(f, 'producer_name'); break;
      case 3: producerVersion = r.string(f, 'producer_version'); break;
      case 4: domain = r.string(f, 'domain'); break;
      case 5: modelVersion = r.int64(f, 'model_version'); break;
      case 6: docString = r.string(f, 'doc_string'); break;
      case 7:
        if (graph) throw new ProtoFormatError('the model has two graphs');
        graph = parseGraph(r, r.sub(f, 'graph'), collect, 0);
        break;
      case 8: opsetImports.push(parseOpset(r, r.sub(f, 'opset_import'))); break;
      case 14: {
        const [k, v] = parseStringPair(r, r.sub(f, 'metadata_props'), 'metadata_props');
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
        break;
      }
      case 25: parseFunction(r, r.sub(f, 'functions'), collect); break;
      default: break;
    }
  });

  if (irVersion === undefined) throw new ProtoFormatError('no ir_version (every ONNX model states one)');
  if (irVersion < 1 || irVersion > 100) throw new ProtoFormatError(`ir_version ${irVersion} is not a plausible ONNX IR version`);
  if (!graph) throw new ProtoFormatError('no graph');
  if (irVersion >= 3 && opsetImports.length === 0) throw new ProtoFormatError(`no opset_import (required from IR version 3; this file says ${irVersion})`);
  const { inputs, outputs, initializerNames, nodeCount, name } = graph;
  return {
    irVersion, producerName, producerVersion, domain, modelVersion, docString,
    opsetImports,
    opset: opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version,
    metadata,
    graphName: name,
    inputs: inputs.filter((i) => !initializerNames.has(i.name)),
    outputs,
    nodeCount,
    initializerCount: initializerNames.size,
    externalData: collect.external,
    externalDataFiles: [...collect.externalFiles],
  };
}

interface GraphFacts {
  readonly name: string;
  readonly inputs: OnnxValueInfo[];
  readonly outputs: OnnxValueInfo[];
  readonly initializerNames: Set<string>;
  nodeCount: number;
}

type Span = readonly [start: number, end: number];

function parseGraph(r: ProtoReader, [s, e]: Span, collect: Collect, depth: number): GraphFacts {
  if (depth > MAX_GRAPH_DEPTH) throw new ProtoFormatError(`graphs nested more than ${MAX_GRAPH_DEPTH} deep`);
  const g: GraphFacts = { name: '', inputs: [], outputs: [], initializerNames: new Set(), nodeCount: 0 };
  let name = '';
  r.message(s, e, 'GraphProto', (f) => {
    switch (f.no) {
      case 1: g.nodeCount++; parseNode(r, r.sub(f, 'node'), collect, depth); break;
      case 2: name = r.string(f, 'graph name'); break;
      case 5: g.initializerNames.add(parseTensor(r, r.sub(f, 'initializer'), collect)); break;
      case 15: g.initializerNames.add(parseSparseTensor(r, r.sub(f, 'sparse_initializer'), collect)); break;
      case 11: g.inputs.push(parseValueInfo(r, r.sub(f, 'input'))); break;
      case 12: g.outputs.push(parseValueInfo(r, r.sub(f, 'output'))); break;
      default: break;
    }
  });
  return { ...g, name };
}

/** Nodes matter for their tensors: Constant values and subgraph initializers can be external too. */
function parseNode(r: ProtoReader, [s, e]: Span, collect: Collect, depth: number): void {
  r.message(s, e, 'NodeProto', (f) => {
    if (f.no !== 5) return;
    const [as, ae] = r.sub(f, 'attribute');
    r.message(as, ae, 'AttributeProto', (a) => {
      switch (a.no) {
        case 5: case 10: parseTensor(r, r.sub(a, 'attribute tensor'), collect); break;
        case 22: case 23: parseSparseTensor(r, r.sub(a, 'attribute sparse tensor'), collect); break;
        case 6: case 11: parseGraph(r, r.sub(a, 'attribute graph'), collect, depth + 1); break;
        default: break;
      }
    });
  });
}

function parseFunction(r: ProtoReader, [s, e]: Span, collect: Collect): void {
  r.message(s, e, 'FunctionProto', (f) => {
    if (f.no === 7) parseNode(r, r.sub(f, 'function node'), collect, 1);
  });
}

/** TensorProto: only its name and where its data lives; the data itself is skipped unread. */
function parseTensor(r: ProtoReader, [s, e]: Span, collect: Collect): string {
  let name = '';
  r.message(s, e, 'TensorProto', (f) => {
    switch (f.no) {
      case 8: name = r.string(f, 'tensor name'); break;
      case 14: if (r.int32(f, 'data_location') === 1) collect.external = true; break;
      case 13: {
        const [k, v] = parseStringPair(r, r.sub(f, 'external_data'), 'external_data');
        collect.external = true;
        if (k === 'location') collect.externalFiles.add(v);
        break;
      }
      default: break;
    }
  });
  return name;
}

function parseSparseTensor(r: ProtoReader, [s, e]: Span, collect: Collect): string {
  let name = '';
  r.message(s, e, 'SparseTensorProto', (f) => {
    if (f.no === 1) name = parseTensor(r, r.sub(f, 'sparse values'), collect);
    else if (f.no === 2) parseTensor(r, r.sub(f, 'sparse indices'), collect);
  });
  return name;
}

function parseOpset(r: ProtoReader, [s, e]: Span): OnnxOpset {
  let domain = '';
  let version = 0;
  r.message(s, e, 'OperatorSetIdProto', (f) => {
    if (f.no === 1) domain = r.string(f, 'opset domain');
    else if (f.no === 2) version = r.int64(f, 'opset version');
  });
  return { domain, version };
}

function parseStringPair(r: ProtoReader, [s, e]: Span, what: string): [string, string] {
  let key = '';
  let value = '';
  r.message(s, e, what, (f) => {
    if (f.no === 1) key = r.string(f, `${what} key`);
    else if (f.no === 2) value = r.string(f, `${what} value`);
  });
  return [key, value];
}

function parseValueInfo(r: ProtoReader, [s, e]: Span): OnnxValueInfo {
  let name = '';
  let type: Omit<OnnxValueInfo, 'name'> = { kind: 'unknown', elemType: undefined, shape: null };
  r.message(s, e, 'ValueInfoProto', (f) => {
    if (f.no === 1) name = r.string(f, 'value name');
    else if (f.no === 2) type = parseType(r, r.sub(f, 'type'));
  });
  return { name, ...type };
}

/** TypeProto: tensor_type (1) and sparse_tensor_type (8) carry elem_type and shape. */
function parseType(r: ProtoReader, [s, e]: Span): Omit<OnnxValueInfo, 'name'> {
  let out: Omit<OnnxValueInfo, 'name'> = { kind: 'unknown', elemType: undefined, shape: null };
  const KINDS: Record<number, OnnxValueInfo['kind']> = { 4: 'sequence', 5: 'map', 9: 'optional' };
  r.message(s, e, 'TypeProto', (f) => {
    if (f.no === 1 || f.no === 8) {
      const [ts, te] = r.sub(f, 'tensor type');
      let elemType: string | undefined;
      let shape: OnnxDim[] | null = null;
      r.message(ts, te, 'TypeProto.Tensor', (t) => {
        if (t.no === 1) {
          const code = r.int32(t, 'elem_type');
          elemType = ELEM_TYPES[code] ?? `unknown(${code})`;
        } else if (t.no === 2) shape = parseShape(r, r.sub(t, 'shape'));
      });
      out = { kind: f.no === 1 ? 'tensor' : 'sparse_tensor', elemType, shape };
    } else if (KINDS[f.no]) {
      r.sub(f, 'type'); // checks the wire type; the element types inside are not needed
      out = { kind: KINDS[f.no]!, elemType: undefined, shape: null };
    }
  });
  return out;
}

function parseShape(r: ProtoReader, [s, e]: Span): OnnxDim[] {
  const dims: OnnxDim[] = [];
  r.message(s, e, 'TensorShapeProto', (f) => {
    if (f.no !== 1) return;
    const [ds, de] = r.sub(f, 'dim');
    let dim: OnnxDim = null;
    r.message(ds, de, 'Dimension', (d) => {
      if (d.no === 1) dim = r.int64(d, 'dim_value');
      else if (d.no === 2) dim = r.string(d, 'dim_param');
    });
    dims.push(dim);
  });
  return dims;
}

/** A guess at what the bytes are instead, for the error message (only when parsing failed). */
function sniff(b: Uint8Array): string | undefined {
  const ascii = (at: number, s: string) => b.length >= at + s.length && [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'it is a JPEG image';
  if (b[0] === 0x89 && ascii(1, 'PNG')) return 'it is a PNG image';
  if (ascii(0, 'version https://git-lfs')) return 'it is a Git LFS pointer, not the model (fetch it with git lfs pull)';
  if (ascii(0, 'PK\x03\x04')) return 'it is a ZIP archive (a PyTorch .pt checkpoint?)';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'it is gzip-compressed';
  if (ascii(4, 'TFL3')) return 'it is a TensorFlow Lite model';
  if (ascii(0, '%PDF')) return 'it is a PDF document';
  if (ascii(0, '\x7fELF')) return 'it is an executable (ELF)';
  if (b[0] === 0x80 && b[1] !== undefined && b[1] >= 2 && b[1] <= 5) return 'it is a Python pickle';
  if (b.length > 8 && b[8] === 0x7b && b[7] === 0 && b[6] === 0) return 'it is a safetensors file';
  const head = b.subarray(0, 512);
  if (head.every((c) => c === 9 || c === 10 || c === 13 || c >= 32)) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 4)));
      return 'it looks like a text file';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

// ── A small, strict protobuf wire-format reader ────────────────────────────────────────────────
// Every length is checked against its enclosing message before use, so garbage cannot make the
// reader allocate, loop or read past the bytes it was given.

class ProtoFormatError extends Error {}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32', 'invalid (6)', 'invalid (7)'];
/** No string in a real model comes near this (the 80-class COCO `names` is about 1 KB). */
const MAX_STRING_BYTES = 64 * 2 ** 20;

interface ProtoField {
  readonly no: number;
  readonly wire: number;
  /** Byte offset of the field's tag, for messages. */
  readonly at: number;
  /** Varint value: a number up to 49 bits, a bigint beyond. */
  readonly value: number | bigint;
  /** Length-delimited payload. */
  readonly start: number;
  readonly end: number;
}

class ProtoReader {
  #pos = 0;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly bytes: Uint8Array) {}

  get length(): number {
    return this.bytes.length;
  }

  /** Calls `visit` for each field of the message in bytes [start, end), in file order. */
  message(start: number, end: number, what: string, visit: (f: ProtoField) => void): void {
    let pos = start;
    while (pos < end) {
      const at = pos;
      this.#pos = pos;
      const tag = this.#varint(end, what);
      if (typeof tag !== 'number' || tag > 0xffffffff) throw new ProtoFormatError(`${what}: field tag at byte ${at} is too large`);
      const no = Math.floor(tag / 8);
      const wire = tag % 8;
      if (no === 0) throw new ProtoFormatError(`${what}: field number 0 at byte ${at}`);
      let value: number | bigint = 0;
      let s = 0;
      let e = 0;
      switch (wire) {
        case WIRE_VARINT:
          value = this.#varint(end, what);
          break;
        case WIRE_FIXED64:
        case WIRE_FIXED32: {
          const size = wire === WIRE_FIXED64 ? 8 : 4;
          if (end - this.#pos < size) throw this.#truncated(what, no, at, size, end);
          this.#pos += size;
          break;
        }
        case WIRE_LEN: {
          const len = this.#varint(end, what);
          if (typeof len !== 'number' || len > end - this.#pos) throw this.#truncated(what, no, at, Number(len), end);
          s = this.#pos;
          e = s + len;
          this.#pos = e;
          break;
        }
        default:
          // Groups (3, 4) are long deprecated and ONNX never used them; 6 and 7 do not exist.
          throw new ProtoFormatError(`${what}: field ${no} at byte ${at} has wire type ${WIRE_NAMES[wire]}, which no ONNX file uses`);
      }
      pos = this.#pos;
      visit({ no, wire, at, value, start: s, end: e });
    }
  }

  /** Bytes of an embedded message. */
  sub(f: ProtoField, what: string): Span {
    this.#expect(f, WIRE_LEN, what);
    return [f.start, f.end];
  }

  string(f: ProtoField, what: string): string {
    this.#expect(f, WIRE_LEN, what);
    if (f.end - f.start > MAX_STRING_BYTES) throw new ProtoFormatError(`${what} at byte ${f.at} is ${f.end - f.start} bytes long`);
    try {
      return this.#utf8.decode(this.bytes.subarray(f.start, f.end));
    } catch {
      throw new ProtoFormatError(`${what} at byte ${f.at} is not UTF-8 text`);
    }
  }

  int64(f: ProtoField, what: string): number {
    this.#expect(f, WIRE_VARINT, what);
    return typeof f.value === 'number' ? f.value : Number(BigInt.asIntN(64, f.value));
  }

  int32(f: ProtoField, what: string): number {
    this.#expect(f, WIRE_VARINT, what);
    return typeof f.value === 'number' ? f.value | 0 : Number(BigInt.asIntN(32, f.value));
  }

  #expect(f: ProtoField, wire: number, what: string): void {
    if (f.wire !== wire) throw new ProtoFormatError(`${what} (field ${f.no}) at byte ${f.at} is ${WIRE_NAMES[f.wire]}, expected ${WIRE_NAMES[wire]}`);
  }

  /** Base-128 varint at #pos, at most 10 bytes, not past `end`. */
  #varint(end: number, what: string): number | bigint {
    const b = this.bytes;
    const at = this.#pos;
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.#pos >= end) throw new ProtoFormatError(`${what}: varint at byte ${at} runs past the end of its message (truncated?)`);
      const byte = b[this.#pos++]!;
      value += (byte & 0x7f) * mul;
      if (byte < 0x80) return value;
      mul *= 128;
    }
    // Past 49 bits: finish in bigint so int64 values (negative ones are 10 bytes) stay exact.
    let big = BigInt(value);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      if (this.#pos >= end) throw new ProtoFormatError(`${what}: varint at byte ${at} runs past the end of its message (truncated?)`);
      const byte = b[this.#pos++]!;
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, big);
    }
    throw new ProtoFormatError(`${what}: varint at byte ${at} is longer than 10 bytes`);
  }

  #truncated(what: string, no: number, at: number, need: number, end: number): ProtoFormatError {
    const where = end === this.bytes.length ? `the file ends at byte ${end}` : `its ${what} ends at byte ${end}`;
    return new ProtoFormatError(`truncated or corrupt: ${what} field ${no} at byte ${at} needs ${need} bytes but ${where}`);
  }
}
