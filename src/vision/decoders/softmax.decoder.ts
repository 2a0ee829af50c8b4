import type { ClassScore, ModelOutput } from '../../domain/detection.js';
import type { Manifest } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';

/** Classification: `[1, nc]` probabilities (or logits when the graph has no softmax). */
export function decodeSoftmax(t: WireTensor, manifest: Manifest): ModelOutput {
  const nc = manifest.classes.length;
  const raw = Array.from(t.data.subarray(0, nc));
  const probs = manifest.softmaxApplied ? raw : softmax(raw);
  const scores: ClassScore[] = probs.map((score, classId) => ({ classId, label: manifest.classes[classId]!, score }));
  return { kind: 'scores', scores };
}

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}
