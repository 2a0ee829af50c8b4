import { describe, expect, it } from 'vitest';
import type { RulesConfig } from '../config/schema.js';
import type { Detection, ModelOutput } from '../domain/detection.js';
import { evaluate } from './evaluate.js';

const det = (label: string, score: number, x = 100, y = 100): Detection => ({ classId: 0, label, score, box: { x, y, w: 40, h: 40 } });
const dets = (...d: Detection[]): ModelOutput => ({ kind: 'detections', detections: d });
const rules = (r: Partial<RulesConfig>): RulesConfig => ({ classes: {}, minScore: 0.25, ...r });

const blister = rules({
  classes: {
    empty_pocket: { reject: 0.5, inconclusive: 0.3, code: 10 },
    broken_tablet: { reject: 0.5, inconclusive: 0.3, code: 11 },
  },
});

describe('evaluate (detections)', () => {
  it('passes a part with only good objects and records them as info', () => {
    const out = evaluate(dets(det('tablet', 0.9), det('tablet', 0.8)), blister);
    expect(out.verdict).toBe('pass');
    expect(out.findings.map((f) => f.effect)).toEqual(['info', 'info']);
    expect(out.rejectCode).toBe(0);
  });

  it('rejects on a defect above its threshold with that class code and score', () => {
    const out = evaluate(dets(det('tablet', 0.9), det('empty_pocket', 0.4), det('broken_tablet', 0.8)), blister);
    expect(out.verdict).toBe('reject');
    expect(out.rejectCode).toBe(11);
    expect(out.score).toBeCloseTo(0.8);
    expect(out.reason).toContain('broken_tablet');
  });

  it('is inconclusive when a defect score is in the doubt band', () => {
    const out = evaluate(dets(det('empty_pocket', 0.35)), blister);
    expect(out.verdict).toBe('inconclusive');
    expect(out.rejectCode).toBe(10);
  });

  it('ignores defects outside the region of interest', () => {
    const roiRules = { ...blister, roi: { x: 0, y: 0, w: 200, h: 200 } };
    expect(evaluate(dets(det('empty_pocket', 0.95, 400, 300)), roiRules).verdict).toBe('pass');
    expect(evaluate(dets(det('empty_pocket', 0.95, 50, 50)), roiRules).verdict).toBe('reject');
  });

  it('ignores detections below minScore entirely', () => {
    const out = evaluate(dets(det('empty_pocket', 0.2)), blister);
    expect(out.verdict).toBe('pass');
    expect(out.findings).toHaveLength(0);
  });

  it('rejects when the expected count of objects is not met', () => {
    const r = { ...blister, expectCount: { label: 'tablet', count: 3, code: 90 } };
    expect(evaluate(dets(det('tablet', 0.9), det('tablet', 0.9), det('tablet', 0.9)), r).verdict).toBe('pass');
    const missing = evaluate(dets(det('tablet', 0.9), det('tablet', 0.9)), r);
    expect(missing.verdict).toBe('reject');
    expect(missing.rejectCode).toBe(90);
    expect(missing.reason).toBe('tablet: found 2, expected 3');
  });
});

describe('evaluate (class scores)', () => {
  const cleaning = rules({ classes: { residue: { reject: 0.6, inconclusive: 0.35, code: 30 }, clean: { pass: 0.6 } } });
  const scores = (clean: number): ModelOutput => ({
    kind: 'scores',
    scores: [
      { classId: 0, label: 'clean', score: clean },
      { classId: 1, label: 'residue', score: 1 - clean },
    ],
  });

  it('passes when the good class wins clearly', () => {
    const out = evaluate(scores(0.95), cleaning);
    expect(out.verdict).toBe('pass');
    expect(out.score).toBeCloseTo(0.95);
  });

  it('rejects when the defect class wins', () => {
    expect(evaluate(scores(0.1), cleaning).verdict).toBe('reject');
  });

  it('is inconclusive when neither class is sure', () => {
    expect(evaluate(scores(0.55), cleaning).verdict).toBe('inconclusive');
  });
});
