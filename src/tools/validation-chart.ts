/** The validation chart: ROC curve on the left, score strips per folder on the right; SVG rendered to PNG. */
import sharp from 'sharp';
import type { RocPoint } from './validation-metrics.js';

export interface ChartData {
  readonly title: string;
  readonly roc: readonly RocPoint[];
  readonly auroc: number;
  readonly threshold: number;
  readonly kinds: readonly string[];
  readonly scores: ReadonlyArray<{ readonly kind: string; readonly score: number }>;
  /** What the score axis shows (default: the anomaly score). */
  readonly scoreLabel?: string;
}

const W = 1000;
const H = 460;

export async function writeValidationChart(path: string, d: ChartData): Promise<void> {
  await sharp(Buffer.from(chartSvg(d))).png().toFile(path);
}

export function chartSvg(d: ChartData): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  // ROC panel: 340 px square at (60, 60).
  const rx = (f: number): number => 60 + f * 340;
  const ry = (t: number): number => 400 - t * 340;
  const path = d.roc.map((p, i) => `${i === 0 ? 'M' : 'L'}${rx(p.fpr).toFixed(1)},${ry(p.tpr).toFixed(1)}`).join(' ');
  // Strips: one row per folder, score 0..1 along x from 560 to 960.
  const sx = (s: number): number => 560 + Math.min(1, Math.max(0, s)) * 400;
  const rowH = 340 / Math.max(1, d.kinds.length);
  const rows = d.kinds.map((k, i) => {
    const y = 60 + i * rowH + rowH / 2;
    const dots = d.scores
      .filter((s) => s.kind === k)
      .map((s, j) => `<circle cx="${sx(s.score).toFixed(1)}" cy="${(y + (((j * 7) % 11) - 5) * (rowH / 30)).toFixed(1)}" r="3" fill="${k === 'good' ? '#2a9d4b' : '#d1495b'}" fill-opacity="0.6"/>`)
      .join('');
    return `<text x="552" y="${y + 4}" text-anchor="end" font-size="12">${esc(k)}</text><line x1="560" x2="960" y1="${y}" y2="${y}" stroke="#ddd"/>${dots}`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => `<text x="${sx(t)}" y="420" text-anchor="middle" font-size="11">${t}</text><text x="${rx(t)}" y="420" text-anchor="middle" font-size="11">${t}</text><text x="52" y="${ry(t) + 4}" text-anchor="end" font-size="11">${t}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${W / 2}" y="28" text-anchor="middle" font-size="16">${esc(d.title)}</text>
<rect x="60" y="60" width="340" height="340" fill="none" stroke="#444"/>
<line x1="${rx(0)}" y1="${ry(0)}" x2="${rx(1)}" y2="${ry(1)}" stroke="#bbb" stroke-dasharray="4 4"/>
<path d="${path}" fill="none" stroke="#1d4e89" stroke-width="2"/>
<text x="230" y="445" text-anchor="middle" font-size="12">false reject rate (good parts flagged)</text>
<text x="20" y="230" text-anchor="middle" font-size="12" transform="rotate(-90 20 230)">recall (defects flagged)</text>
<text x="${rx(0.5)}" y="${ry(0.1)}" font-size="13">ROC, AUROC ${d.auroc.toFixed(4)}</text>
<line x1="${sx(d.threshold)}" x2="${sx(d.threshold)}" y1="55" y2="405" stroke="#444" stroke-dasharray="5 3"/>
<text x="${sx(d.threshold) + 4}" y="52" font-size="11">threshold ${d.threshold}</text>
<text x="760" y="445" text-anchor="middle" font-size="12">${esc(d.scoreLabel ?? 'normalised anomaly score (pred_score)')}</text>
${ticks.join('')}
${rows.join('\n')}
</svg>`;
}
