import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attr, GraphBuilder } from '../onnx-writer/onnx-writer.js';
import { sha256 } from '../../../scripts/lib/model-files.js';

/**
 * Small ONNX models that are broken in the ways real exports break, written for tests: a model
 * whose output is all zeros whatever the image, and one whose output changes from run to run.
 * Each comes with a manifest that is otherwise correct (a YOLOv8-style detector, 32×32 input).
 */
export type BrokenKind = 'all-zero' | 'nondeterministic' | 'not-onnx';

const CLASSES = ['tablet', 'empty_pocket'];
const ANCHORS = 16;

export function writeBrokenModel(kind: BrokenKind, dir = mkdtempSync(join(tmpdir(), 'lineside-broken-'))): { path: string; manifest: string } {
  let bytes: Uint8Array;
  const g = new GraphBuilder(kind).input('images', [1, 3, 32, 32]).output('output0', [1, 4 + CLASSES.length, ANCHORS]);
  if (kind === 'all-zero') {
    // Dead weights: the detection head is a constant zero tensor.
    g.node('Identity', [g.floatTensor('zeros', [1, 4 + CLASSES.length, ANCHORS], new Float32Array((4 + CLASSES.length) * ANCHORS))], ['output0']);
    bytes = g.encode();
  } else if (kind === 'nondeterministic') {
    // Random values shaped like the head: a different answer for the same image every time.
    g.node('RandomUniform', [], ['output0'], { shape: attr.ints([1, 4 + CLASSES.length, ANCHORS]) });
    bytes = g.encode();
  } else {
    bytes = Buffer.from('\xff\xd8\xff\xe0 this is a JPEG someone renamed to .onnx', 'latin1');
  }
  const path = join(dir, `${kind}.onnx`);
  writeFileSync(path, bytes);
  const manifest = join(dir, `${kind}.json`);
  writeFileSync(
    manifest,
    JSON.stringify({
      name: kind,
      version: '0.0.1',
      task: 'detect',
      decoder: 'yolov8',
      input: { width: 32, height: 32, resize: 'stretch' },
      classes: CLASSES,
      intendedUse: 'tests: a broken model the appliance must refuse or flag',
      licence: 'test fixture',
      sha256: sha256(bytes),
    }),
  );
  return { path, manifest };
}

