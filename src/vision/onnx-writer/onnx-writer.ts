/**
 * A minimal ONNX model encoder: enough of ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto and ValueInfoProto to export the demo models that the scripts fit in TypeScript and the anomaly models `lineside teach` builds on the box.
 * Field numbers follow onnx.proto (ONNX IR version 8, default opset 17).
 */
import { ProtoWriter } from './protobuf.js';

const IR_VERSION = 8;
const OPSET_VERSION = 17;

/** TensorProto.DataType values used here. */
export const ElemType = { float: 1, int64: 7 } as const;
export type ElemType = (typeof ElemType)[keyof typeof ElemType];

/** AttributeProto.AttributeType values. */
const AttrKind = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

export type Attribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

/** Typed attribute constructors: a JS number alone cannot say whether 1 is an INT or a FLOAT. */
export const attr = {
  int: (value: number): Attribute => ({ kind: 'int', value }),
  ints: (value: readonly number[]): Attribute => ({ kind: 'ints', value }),
  float: (value: number): Attribute => ({ kind: 'float', value }),
  floats: (value: readonly number[]): Attribute => ({ kind: 'floats', value }),
  string: (value: string): Attribute => ({ kind: 'string', value }),
};

/** A dimension is a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

interface ValueInfo {
  readonly name: string;
  readonly elemType: ElemType;
  readonly shape: readonly Dim[];
}

interface Node {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attributes: Readonly<Record<string, Attribute>>;
}

interface Initializer {
  readonly name: string;
  readonly elemType: ElemType;
  readonly dims: readonly number[];
  readonly raw: Uint8Array;
}

export interface ModelOptions {
  readonly producerVersion?: string;
  readonly docString?: string;
  /** Free-form key/value pairs (Ultralytics stores names, imgsz, task, stride here). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Collects a graph node by node, then encodes the whole model. */
export class GraphBuilder {
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly nodes: Node[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly names = new Set<string>();

  constructor(readonly name: string) {}

  input(name: string, shape: readonly Dim[], elemType: ElemType = ElemType.float): this {
    this.claim(name);
    this.inputs.push({ name, elemType, shape });
    return this;
  }

  output(name: string, shape: readonly Dim[], elemType: ElemType = ElemType.float): this {
    this.outputs.push({ name, elemType, shape });
    return this;
  }

  /** A float constant, stored little-endian in raw_data. */
  floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    checkCount(name, dims, values.length);
    const raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.addInitializer(name, ElemType.float, dims, raw);
  }

  /** An int64 constant (shapes for Reshape and the like), stored little-endian in raw_data. */
  int64Tensor(name: string, dims: readonly number[], values: readonly number[]): string {
    checkCount(name, dims, values.length);
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    return this.addInitializer(name, ElemType.int64, dims, raw);
  }

  /** Adds a node and returns its first output's name, so calls can be chained by value. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, Attribute> = {}): string {
    for (const o of outputs) this.claim(o);
    this.nodes.push({ opType, inputs, outputs, name: `${opType.toLowerCase()}_${this.nodes.length}`, attributes });
    return outputs[0]!;
  }

  encode(options: ModelOptions = {}): Uint8Array {
    const w = new ProtoWriter();
    w.varint(1, IR_VERSION);
    w.string(2, 'lineside');
    if (options.producerVersion) w.string(3, options.producerVersion);
    if (options.docString) w.string(6, options.docString);
    w.message(7, (g) => this.writeGraph(g));
    w.message(8, (o) => o.string(1, '').varint(2, OPSET_VERSION));
    for (const [key, value] of Object.entries(options.metadata ?? {})) {
      w.message(14, (e) => e.string(1, key).string(2, value));
    }
    return w.finish();
  }

  private writeGraph(g: ProtoWriter): void {
    for (const n of this.nodes) g.message(1, (w) => writeNode(w, n));
    g.string(2, this.name);
    for (const t of this.initializers) g.message(5, (w) => writeTensor(w, t));
    for (const v of this.inputs) g.message(11, (w) => writeValueInfo(w, v));
    for (const v of this.outputs) g.message(12, (w) => writeValueInfo(w, v));
  }

  private addInitializer(name: string, elemType: ElemType, dims: readonly number[], raw: Uint8Array): string {
    this.claim(name);
    this.initializers.push({ name, elemType, dims, raw });
    return name;
  }

  /** Tensor names must be unique in a graph; a duplicate is a bug in the calling script. */
  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`tensor name "${name}" used twice in graph ${this.name}`);
    this.names.add(name);
  }
}

function writeNode(w: ProtoWriter, n: Node): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes)) w.message(5, (aw) => writeAttribute(aw, name, a));
}

function writeAttribute(w: ProtoWriter, name: string, a: Attribute): void {
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value).varint(20, AttrKind.float);
      break;
    case 'int':
      w.varint(3, a.value).varint(20, AttrKind.int);
      break;
    case 'string':
      w.string(4, a.value).varint(20, AttrKind.string);
      break;
    case 'floats':
      for (const f of a.value) w.float(7, f);
      w.varint(20, AttrKind.floats);
      break;
    case 'ints':
      for (const i of a.value) w.varint(8, i);
      w.varint(20, AttrKind.ints);
      break;
  }
}

function writeTensor(w: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, t.elemType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  // TypeProto.tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_value (1) | dim_param (2)
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function checkCount(name: string, dims: readonly number[], count: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== count) throw new Error(`tensor ${name}: dims ${dims.join('×')} need ${expected} values, got ${count}`);
}
