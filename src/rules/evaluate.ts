import type { RulesConfig } from '../config/schema.js';
import type { Detection, Finding, ModelOutput } from '../domain/detection.js';
import { centreInside } from '../domain/geometry.js';
import { Verdict } from '../domain/verdict.js';

/** What the rules concluded from one model output. */
export interface RuleOutcome {
  readonly verdict: Exclude<Verdict, 'not_inspected'>;
  readonly findings: readonly Finding[];
  readonly rejectCode: number;
  /** The deciding score: the worst finding's score, or the pass class's confidence. */
  readonly score: number;
  /** Human reason when not pass, e.g. `empty_pocket 0.91 ≥ 0.50`. */
  readonly reason: string | null;
}

/** Default reject code for a class rule without one: 100 + class position in the rules. */
const DEFAULT_CODE_BASE = 100;
/** Detections count towards `expectCount` at this score unless the class sets `pass`. */
const DEFAULT_COUNT_SCORE = 0.5;

/**
 * Detections or class scores + the station's rules → verdict. Pure: same input, same verdict.
 * Reject wins over inconclusive, inconclusive over pass; when in doubt, not pass.
 */
export function evaluate(output: ModelOutput, rules: RulesConfig): RuleOutcome {
  const findings: Finding[] = [];
  const classNames = Object.keys(rules.classes);
  const codeFor = (label: string): number => rules.classes[label]?.code ?? DEFAULT_CODE_BASE + classNames.indexOf(label);

  const items: Array<{ label: string; score: number; box?: Detection['box'] }> =
    output.kind === 'detections'
      ? output.detections.filter((d) => d.score >= rules.minScore && (!rules.roi || centreInside(d.box, rules.roi)))
      : output.scores.map((s) => ({ label: s.label, score: s.score }));

  let passScore = 0;
  for (const it of items) {
    const rule = rules.classes[it.label];
    let effect: Finding['effect'] = 'info';
    let ruleName = 'record';
    if (rule?.reject !== undefined && it.score >= rule.reject) {
      effect = 'reject';
      ruleName = `class:${it.label}>=${rule.reject}`;
    } else if (rule?.inconclusive !== undefined && it.score >= rule.inconclusive) {
      effect = 'inconclusive';
      ruleName = `class:${it.label}>=${rule.inconclusive}`;
    } else if (rule?.pass !== undefined) {
      if (it.score < rule.pass) {
        effect = 'inconclusive';
        ruleName = `pass:${it.label}<${rule.pass}`;
      } else passScore = Math.max(passScore, it.score);
    }
    // Classifier scores below minScore add nothing to the record.
    if (output.kind === 'scores' && effect === 'info' && it.score < rules.minScore) continue;
    findings.push({ label: it.label, score: it.score, box: it.box, rule: ruleName, effect, rejectCode: effect === 'info' ? 0 : codeFor(it.label) });
  }

  if (rules.expectCount && output.kind === 'detections') {
    const { label, count, code } = rules.expectCount;
    const min = rules.classes[label]?.pass ?? DEFAULT_COUNT_SCORE;
    const seen = items.filter((i) => i.label === label && i.score >= min).length;
    if (seen !== count) {
      findings.push({ label, score: seen, rule: `count:${label}==${count}`, effect: 'reject', rejectCode: code });
    }
  }

  const worst = (effect: Finding['effect']): Finding | undefined =>
    findings.filter((f) => f.effect === effect).sort((a, b) => b.score - a.score)[0];
  const reject = worst('reject');
  if (reject) return { verdict: Verdict.reject, findings, rejectCode: reject.rejectCode, score: scoreOf(reject), reason: describe(reject) };
  const unsure = worst('inconclusive');
  if (unsure) return { verdict: Verdict.inconclusive, findings, rejectCode: unsure.rejectCode, score: scoreOf(unsure), reason: describe(unsure) };
  return { verdict: Verdict.pass, findings, rejectCode: 0, score: passScore, reason: null };
}

function scoreOf(f: Finding): number {
  return f.rule.startsWith('count:') ? 1 : f.score;
}

function describe(f: Finding): string {
  if (f.rule.startsWith('count:')) return `${f.label}: found ${f.score}, expected ${f.rule.split('==')[1]}`;
  return `${f.label} ${f.score.toFixed(2)} (${f.rule})`;
}
