/** Image-level ROC and AUROC from good and defective scores (higher = more anomalous). */

/** AUROC as the Mann–Whitney probability that a defective image outscores a good one (ties count half). */
export function auroc(good: readonly number[], bad: readonly number[]): number {
  if (good.length === 0 || bad.length === 0) return NaN;
  let wins = 0;
  for (const b of bad) for (const g of good) wins += b > g ? 1 : b === g ? 0.5 : 0;
  return wins / (good.length * bad.length);
}

export interface RocPoint {
  readonly threshold: number;
  readonly fpr: number;
  readonly tpr: number;
}

/** The ROC curve over every distinct score, from (0,0) to (1,1). */
export function rocCurve(good: readonly number[], bad: readonly number[]): RocPoint[] {
  const ts = [...new Set([...good, ...bad])].sort((a, b) => b - a);
  const pts: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  for (const t of ts) pts.push({ threshold: t, fpr: good.filter((s) => s >= t).length / good.length, tpr: bad.filter((s) => s >= t).length / bad.length });
  return pts;
}
