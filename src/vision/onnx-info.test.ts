import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElemType, GraphBuilder } from './onnx-writer/onnx-writer.js';
import { ProtoWriter } from './onnx-writer/protobuf.js';
import { Rng } from '../../scripts/lib/rng.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { readOnnxInfo, readOnnxInfoFromBuffer } from './onnx-info.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEMO = ['blister-detector', 'ppe-detector', 'cleaning-classifier'];

/** Whatever the bytes, reading them either succeeds or throws the one clear model-load error. */
function expectNotOnnx(fn: () => unknown, label: string, why?: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `${label} should be refused`).toBeInstanceOf(LinesideError);
  const e = error as LinesideError;
  expect(e.code).toBe(ErrorCode.modelLoad);
  expect(e.message.startsWith(`model ${label} is not an ONNX model: `)).toBe(true);
  if (why) expect(e.message).toMatch(why);
}

/** A tiny valid model: Identity from `x` to `y`. */
function tinyModel(metadata?: Record<string, string>): Uint8Array {
  const g = new GraphBuilder('tiny');
  g.input('x', [1, 3, 8, 8]);
  g.node('Identity', ['x'], ['y']);
  g.output('y', [1, 3, 8, 8]);
  return g.encode(metadata ? { metadata } : {});
}

describe('readOnnxInfo on the demo models', () => {
  for (const name of DEMO) {
    it(`${name}: inputs, outputs and shapes agree with its manifest`, async () => {
      const path = `${ROOT}models/${name}.onnx`;
      const manifest = JSON.parse(await readFile(`${ROOT}models/${name}.json`, 'utf8'));
      const info = await readOnnxInfo(path);
      expect(info).toMatchObject({ irVersion: 8, producerName: 'lineside', opset: 17, opsetImports: [{ domain: '', version: 17 }], externalData: false, externalDataFiles: [] });
      expect(info.inputs).toEqual([{ name: manifest.input.name, kind: 'tensor', elemType: 'float32', shape: [1, 3, manifest.input.height, manifest.input.width] }]);
      expect(info.outputs.map((o) => o.name)).toEqual(manifest.outputs);
      const out = info.outputs[0]!;
      expect(out.elemType).toBe('float32');
      const nc = manifest.classes.length;
      if (manifest.decoder === 'yolov8') expect(out.shape).toEqual([1, 4 + nc, expect.any(Number)]);
      else expect(out.shape).toEqual([1, nc]);
      expect(info.metadata.task).toBe(manifest.task);
      expect(info.nodeCount).toBeGreaterThan(0);
      expect(info.initializerCount).toBeGreaterThan(0);
      // The buffer variant reads the same facts.
      expect(readOnnxInfoFromBuffer(await readFile(path), path)).toEqual(info);
    });
  }
});

describe('readOnnxInfo on written graphs', () => {
  it('reads symbolic dims, element types, producer and metadata exactly, keys like __proto__ included', () => {
    const g = new GraphBuilder('dyn');
    g.input('images', ['batch', 3, 'height', 'width']);
    g.input('ids', ['batch'], ElemType.int64);
    g.node('Identity', ['images'], ['out']);
    g.output('out', ['batch', 3, 'height', 'width']);
    // JSON.parse makes __proto__ an own key, as a hostile file could.
    const metadata = JSON.parse(`{"names": "{0: \\"it's\\", 1: 'naïve 日本 ✓'}", "empty": "", "__proto__": "not a prototype", "key with spaces": "v"}`) as Record<string, string>;
    const info = readOnnxInfoFromBuffer(g.encode({ producerVersion: '9.9', docString: 'doc', metadata }));
    expect(info).toMatchObject({ producerName: 'lineside', producerVersion: '9.9', docString: 'doc', graphName: 'dyn', nodeCount: 1, initializerCount: 0 });
    expect(info.inputs).toEqual([
      { name: 'images', kind: 'tensor', elemType: 'float32', shape: ['batch', 3, 'height', 'width'] },
      { name: 'ids', kind: 'tensor', elemType: 'int64', shape: ['batch'] },
    ]);
    expect(Object.keys(info.metadata).sort()).toEqual(['__proto__', 'empty', 'key with spaces', 'names']);
    expect(info.metadata['__proto__']).toBe('not a prototype');
    expect(info.metadata.names).toBe(metadata.names);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves initializers out of the inputs (IR 3 exports list them there too) and counts them', () => {
    const input = (g: ProtoWriter, name: string) => g.message(11, (v) => v.string(1, name).message(2, (t) => t.message(1, (tt) => tt.varint(1, ElemType.float))));
    const model = new ProtoWriter()
      .varint(1, 3)
      .message(7, (g) => {
        g.message(1, (n) => n.string(1, 'x').string(1, 'w').string(2, 'y').string(4, 'Mul'));
        g.message(5, (t) => t.varint(1, 4).varint(2, ElemType.float).string(8, 'w').bytes(9, new Uint8Array(16)));
        input(g, 'x');
        input(g, 'w');
        g.message(12, (v) => v.string(1, 'y'));
      })
      .message(8, (o) => o.varint(2, 8))
      .finish();
    const info = readOnnxInfoFromBuffer(model);
    expect(info.inputs).toEqual([{ name: 'x', kind: 'tensor', elemType: 'float32', shape: null }]);
    expect(info.initializerCount).toBe(1);
  });

  it('reports external data from initializers and from Constant tensors inside subgraphs, and unknown dims', () => {
    const external = (w: ProtoWriter, name: string, file: string) =>
      w.varint(1, 16).varint(2, ElemType.float).string(8, name)
        .message(13, (e) => e.string(1, 'location').string(2, file))
        .message(13, (e) => e.string(1, 'offset').string(2, '0'))
        .varint(14, 1);
    const valueInfo = (w: ProtoWriter, name: string, dims: Array<number | string | null>) =>
      w.string(1, name).message(2, (t) => t.message(1, (tt) => tt.varint(1, ElemType.float).message(2, (s) => {
        for (const d of dims) s.message(1, (dw) => (d === null ? dw : typeof d === 'number' ? dw.varint(1, d) : dw.string(2, d)));
      })));
    const model = new ProtoWriter()
      .varint(1, 9)
      .string(2, 'handmade')
      .message(7, (g) => {
        g.message(5, (t) => external(t, 'big_weight', 'weights.bin'));
        // If node whose then_branch holds a Constant with its own external tensor.
        g.message(1, (n) => n.string(1, 'cond').string(2, 'y').string(4, 'If')
          .message(5, (a) => a.string(1, 'then_branch').varint(20, 5).message(6, (sub) =>
            sub.message(1, (c) => c.string(2, 'k').string(4, 'Constant').message(5, (ca) => ca.string(1, 'value').varint(20, 4).message(5, (t) => external(t, 'k', 'more/consts.bin'))))
              .string(2, 'then'))));
        g.string(2, 'ext');
        g.message(11, (v) => valueInfo(v, 'cond', []));
        g.message(12, (v) => valueInfo(v, 'y', [-1, null, 'n']));
        g.message(12, (v) => v.string(1, 'untyped'));
      })
      .message(8, (o) => o.string(1, '').varint(2, 19))
      .message(8, (o) => o.string(1, 'com.microsoft').varint(2, 1))
      .finish();
    const info = readOnnxInfoFromBuffer(model);
    expect(info.externalData).toBe(true);
    expect(info.externalDataFiles).toEqual(['weights.bin', 'more/consts.bin']);
    expect(info.opsetImports).toEqual([{ domain: '', version: 19 }, { domain: 'com.microsoft', version: 1 }]);
    expect(info.opset).toBe(19);
    expect(info.irVersion).toBe(9);
    expect(info.inputs).toEqual([{ name: 'cond', kind: 'tensor', elemType: 'float32', shape: [] }]);
    expect(info.outputs).toEqual([
      { name: 'y', kind: 'tensor', elemType: 'float32', shape: [-1, null, 'n'] },
      { name: 'untyped', kind: 'unknown', elemType: undefined, shape: null },
    ]);
  });
});

describe('readOnnxInfo refuses what is not ONNX, naming the file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'onnx-info-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const refuses = async (path: string, why: RegExp) => {
    const e = await readOnnxInfo(path).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(LinesideError);
    expect(e).toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringMatching(why) });
    expect((e as Error).message).toContain(`model ${path} is not an ONNX model: `);
  };

  it('a JPEG', () => refuses(`${ROOT}fixtures/blister/blister-0000.jpg`, /it is a JPEG image \(.*wire type/));
  it('a text file (the manifest JSON)', () => refuses(`${ROOT}models/blister-detector.json`, /looks like a text file/));
  it('an empty file', async () => {
    await writeFile(join(dir, 'empty.onnx'), '');
    await refuses(join(dir, 'empty.onnx'), /the file is empty/);
  });
  it('a Git LFS pointer', async () => {
    await writeFile(join(dir, 'lfs.onnx'), 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n');
    await refuses(join(dir, 'lfs.onnx'), /Git LFS pointer/);
  });
  it('a truncated real model', async () => {
    const bytes = await readFile(`${ROOT}models/ppe-detector.onnx`);
    await writeFile(join(dir, 'cut.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    await refuses(join(dir, 'cut.onnx'), /truncated or corrupt: .*needs \d+ bytes but the file ends at byte \d+/);
  });
  it('a missing file, with the cause', async () => {
    await expect(readOnnxInfo(join(dir, 'nope.onnx'))).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringMatching(/cannot read model .*nope\.onnx/) });
  });

  it('every truncation of a small model', () => {
    const bytes = tinyModel({ names: "{0: 'a'}" });
    // Cut exactly before the trailing metadata_props the rest is a complete model: protobuf cannot tell.
    const complete = tinyModel().length;
    for (let n = 0; n < bytes.length; n++) {
      if (n === complete) expect(readOnnxInfoFromBuffer(bytes.subarray(0, n)).metadata).toEqual({});
      else expectNotOnnx(() => readOnnxInfoFromBuffer(bytes.subarray(0, n), `cut-${n}`), `cut-${n}`);
    }
  });

  it('300 random truncations of a real model', async () => {
    const bytes = await readFile(`${ROOT}models/blister-detector.onnx`);
    const rng = new Rng(7);
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(rng.next() * bytes.length);
      expectNotOnnx(() => readOnnxInfoFromBuffer(bytes.subarray(0, n), `cut-${n}`), `cut-${n}`);
    }
  });

  it('random bytes, 200 seeds, without a crash or a hang', () => {
    const t0 = performance.now();
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Rng(seed);
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rng.next() * 4096) }, () => Math.floor(rng.next() * 256));
      expectNotOnnx(() => readOnnxInfoFromBuffer(bytes, `random-${seed}`), `random-${seed}`);
    }
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('random corruptions of a real model either read or fail cleanly, 200 seeds', async () => {
    const original = await readFile(`${ROOT}models/cleaning-classifier.onnx`);
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Rng(1000 + seed);
      const bytes = Uint8Array.from(original);
      for (let k = 0; k < 1 + Math.floor(rng.next() * 8); k++) bytes[Math.floor(rng.next() * bytes.length)] = Math.floor(rng.next() * 256);
      try {
        readOnnxInfoFromBuffer(bytes, `mutant-${seed}`);
      } catch (e) {
        // Flipped bytes inside weights are still a valid protobuf; anything else must be the clear error.
        expect(e).toBeInstanceOf(LinesideError);
        expect((e as LinesideError).message).toMatch(new RegExp(`^model mutant-${seed} is not an ONNX model: `));
      }
    }
  });

  it('hostile structure: lengths past the end, over-long varints, deep nesting, bad UTF-8, groups', () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['huge length', Uint8Array.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), /truncated or corrupt/],
      ['long varint', Uint8Array.from([0x08, ...Array(11).fill(0xff), 0x01]), /longer than 10 bytes/],
      ['field zero', Uint8Array.from([0x00, 0x01]), /field number 0/],
      ['group', Uint8Array.from([0x0b, 0x0c]), /wire type group/],
      ['bad utf-8', new ProtoWriter().varint(1, 8).bytes(2, Uint8Array.from([0xc3, 0x28])).finish(), /not UTF-8/],
      ['wrong wire type', new ProtoWriter().string(1, 'eight').finish(), /ir_version \(field 1\).*expected varint/],
      ['no graph', new ProtoWriter().varint(1, 8).message(8, (o) => o.varint(2, 17)).finish(), /no graph/],
      ['no ir_version', new ProtoWriter().message(7, () => undefined).finish(), /no ir_version/],
      ['no opset', new ProtoWriter().varint(1, 8).message(7, () => undefined).finish(), /no opset_import/],
      ['absurd ir_version', new ProtoWriter().varint(1, 123456).message(7, () => undefined).finish(), /not a plausible/],
      ['deep subgraphs', deepModel(200), /nested more than 32 deep/],
    ];
    for (const [label, bytes, why] of cases) expectNotOnnx(() => readOnnxInfoFromBuffer(bytes, label), label, why);
  });
});

/** A model whose If nodes nest `depth` graphs. */
function deepModel(depth: number): Uint8Array {
  const graph = (w: ProtoWriter, d: number): void => {
    if (d > 0) w.message(1, (n) => n.string(4, 'If').message(5, (a) => a.string(1, 'then_branch').varint(20, 5).message(6, (g) => graph(g, d - 1))));
  };
  return new ProtoWriter().varint(1, 8).message(7, (g) => graph(g, depth)).message(8, (o) => o.varint(2, 17)).finish();
}
