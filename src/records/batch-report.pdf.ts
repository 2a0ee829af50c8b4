import PDFDocument from 'pdfkit';
import type { BatchReport } from './batch-report.js';
import { percent, utc } from './batch-report.csv.js';

const MARGIN = 48;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
/** Long audit values are cut in print; the JSON and CSV exports carry them whole. */
const VALUE_CHARS = 160;

interface Column {
  readonly title: string;
  /** Share of the text width. */
  readonly width: number;
  readonly align?: 'left' | 'right';
}

const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const SHA256 = /^[0-9a-f]{64}$/;

/** An audit value as a person reads it: `key: value` pairs, SHA-256 hex shortened; JSON only below the top level. */
function printed(v: unknown): string {
  if (v === undefined || v === null) return '';
  const one = (x: unknown): string => (typeof x === 'string' ? (SHA256.test(x) ? `${x.slice(0, 12)}…` : x) : JSON.stringify(x));
  const text = typeof v === 'object' && !Array.isArray(v) ? Object.entries(v).map(([k, x]) => `${k}: ${one(x)}`).join(', ') : one(v);
  return clip(text, VALUE_CHARS);
}

/** Old and new value of an audit entry in one cell ("->": the standard PDF fonts have no arrow glyph). */
function change(oldValue: unknown, newValue: unknown): string {
  const [o, n] = [printed(oldValue), printed(newValue)];
  return o === '' ? n : `${o} -> ${n === '' ? '(none)' : n}`;
}

/**
 * Lays out one A4 report: headings, key/value lines and tables that continue across pages with
 * their header row repeated. Every page gets the batch, the report's content hash and "page i of n".
 */
class Layout {
  readonly doc: PDFKit.PDFDocument;
  readonly #width: number;

  constructor(doc: PDFKit.PDFDocument) {
    this.doc = doc;
    this.#width = doc.page.width - 2 * MARGIN;
  }

  get #bottom(): number {
    return this.doc.page.height - MARGIN - 14;
  }

  #room(h: number): void {
    if (this.doc.y + h > this.#bottom) this.doc.addPage();
  }

  heading(text: string): void {
    this.#room(40);
    this.doc.moveDown(0.8).font(BOLD).fontSize(12).text(text, MARGIN, this.doc.y, { width: this.#width });
    this.doc.moveDown(0.3);
  }

  note(text: string): void {
    this.#room(14);
    this.doc.font(FONT).fontSize(8.5).fillColor('#333').text(text, MARGIN, this.doc.y, { width: this.#width }).fillColor('black');
  }

  pairs(rows: readonly (readonly [string, string])[]): void {
    for (const [k, v] of rows) {
      this.#room(14);
      const y = this.doc.y;
      this.doc.font(BOLD).fontSize(9).text(k, MARGIN, y, { width: 130 });
      this.doc.font(FONT).fontSize(9).text(v, MARGIN + 135, y, { width: this.#width - 135 });
      this.doc.y = Math.max(this.doc.y, y + 12);
    }
  }

  table(columns: readonly Column[], rows: readonly (readonly string[])[], empty: string): void {
    if (rows.length === 0) return this.note(empty);
    const widths = columns.map((c) => c.width * this.#width);
    const size = columns.length > 8 ? 7 : 8;
    const pad = 3;
    const heightOf = (cells: readonly string[], font: string): number =>
      Math.max(...cells.map((c, i) => this.doc.font(font).fontSize(size).heightOfString(c, { width: widths[i]! - 2 * pad }))) + 2 * pad;
    const draw = (cells: readonly string[], font: string, shade: boolean): void => {
      const h = heightOf(cells, font);
      const y = this.doc.y;
      if (shade) this.doc.rect(MARGIN, y, this.#width, h).fill('#e6e6e6').fillColor('black');
      let x = MARGIN;
      cells.forEach((c, i) => {
        this.doc.font(font).fontSize(size).text(c, x + pad, y + pad, { width: widths[i]! - 2 * pad, align: columns[i]!.align ?? 'left' });
        x += widths[i]!;
      });
      this.doc.moveTo(MARGIN, y + h).lineTo(MARGIN + this.#width, y + h).lineWidth(0.3).strokeColor('#999').stroke();
      this.doc.x = MARGIN;
      this.doc.y = y + h;
    };
    const header = columns.map((c) => c.title);
    this.#room(heightOf(header, BOLD) + heightOf(rows[0]!, FONT));
    draw(header, BOLD, true);
    for (const row of rows) {
      if (this.doc.y + heightOf(row, FONT) > this.#bottom) {
        this.doc.addPage();
        draw(header, BOLD, true);
      }
      draw(row, FONT, false);
    }
  }

  /** Header and footer on every page, once the page count is known. */
  frame(left: string, right: string): void {
    const range = this.doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      this.doc.switchToPage(i);
      const bottom = this.doc.page.margins.bottom;
      this.doc.page.margins.bottom = 0;
      const y = this.doc.page.height - MARGIN + 4;
      this.doc.font(FONT).fontSize(7.5).fillColor('#333');
      this.doc.text(left, MARGIN, y, { width: this.#width * 0.75, lineBreak: false });
      this.doc.text(`page ${i - range.start + 1} of ${range.count}`, MARGIN, y, { width: this.#width, align: 'right', lineBreak: false });
      this.doc.text(right, MARGIN, MARGIN - 20, { width: this.#width, align: 'right', lineBreak: false });
      this.doc.fillColor('black');
      this.doc.page.margins.bottom = bottom;
    }
  }
}

/** The report as a PDF a person can read without the system: every figure is printed, with units and UTC times. */
export async function batchReportPdf(r: BatchReport): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    info: {
      Title: `Batch report ${r.batchId}`,
      Author: 'lineside',
      Subject: `Inspection records of batch ${r.batchId}${r.line ? ` on line ${r.line}` : ''}`,
      CreationDate: new Date(r.generatedAt),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const out = new Layout(doc);
  doc.font(BOLD).fontSize(18).text(`Batch report: ${r.batchId}`);
  doc.moveDown(0.4);
  out.pairs([
    ['Line', r.line ?? '(not configured)'],
    ['Batch period (UTC)', `${utc(r.period.from)} to ${utc(r.period.to)} (first to last inspection)`],
    ['Generated (UTC)', utc(r.generatedAt)],
    ['Generated by', `${r.generatedBy.user} (${r.generatedBy.role})`],
    ['Content SHA-256', r.contentSha256],
  ]);
  out.note('All times are UTC. Reject rate = rejected parts ÷ all inspections of the batch. The content hash is computed over the report data (JSON export) and identifies it.');

  const t = r.totals;
  out.heading('Inspections by verdict');
  out.table(
    [
      { title: 'Station', width: 0.18 },
      { title: 'Kind', width: 0.1 },
      { title: 'Total', width: 0.1, align: 'right' },
      { title: 'Pass', width: 0.1, align: 'right' },
      { title: 'Reject', width: 0.1, align: 'right' },
      { title: 'Inconclusive', width: 0.13, align: 'right' },
      { title: 'Not inspected', width: 0.14, align: 'right' },
      { title: 'Reject rate', width: 0.15, align: 'right' },
    ],
    [
      ...r.stations.map((s) => [s.stationId, s.kind, String(s.total), String(s.pass), String(s.reject), String(s.inconclusive), String(s.notInspected), percent(s.rejectRate)]),
      ['All stations', '', String(t.total), String(t.pass), String(t.reject), String(t.inconclusive), String(t.notInspected), percent(t.rejectRate)],
    ],
    'No inspections.',
  );

  out.heading('Defects (Pareto of rejecting and inconclusive findings)');
  out.table(
    [
      { title: 'Finding', width: 0.4 },
      { title: 'Parts', width: 0.2, align: 'right' },
      { title: 'Share', width: 0.2, align: 'right' },
      { title: 'Cumulative', width: 0.2, align: 'right' },
    ],
    r.pareto.map((p) => [p.label, String(p.parts), percent(p.share), percent(p.cumulativeShare)]),
    'No finding rejected a part or left it inconclusive.',
  );

  out.heading('Recipes and models used');
  out.table(
    [
      { title: 'Station', width: 0.4 },
      { title: 'Recipe index', width: 0.3, align: 'right' },
      { title: 'Inspections', width: 0.3, align: 'right' },
    ],
    r.recipes.map((x) => [x.stationId, x.recipeIndex === null ? '(none)' : String(x.recipeIndex), String(x.inspections)]),
    'No recipe recorded.',
  );
  doc.moveDown(0.6);
  out.table(
    [
      { title: 'Model', width: 0.16 },
      { title: 'Version and SHA-256 prefix', width: 0.3 },
      { title: 'Inspections', width: 0.12, align: 'right' },
      { title: 'First used (UTC)', width: 0.21 },
      { title: 'Last used (UTC)', width: 0.21 },
    ],
    r.models.map((m) => [m.model, m.version, String(m.inspections), utc(m.firstUsed), utc(m.lastUsed)]),
    'No model recorded.',
  );

  out.heading('Alarms during the batch period');
  out.table(
    [
      { title: 'Station', width: 0.1 },
      { title: 'Alarm', width: 0.13 },
      { title: 'Severity', width: 0.08 },
      { title: 'Message', width: 0.27 },
      { title: 'Raised (UTC)', width: 0.21 },
      { title: 'Cleared (UTC)', width: 0.21 },
    ],
    r.alarms.map((a) => [a.stationId === '*' ? 'appliance' : a.stationId, a.category, a.severity, a.message, utc(a.raisedAt), a.clearedAt === null ? 'still active' : utc(a.clearedAt)]),
    'No alarm was active during the batch period.',
  );

  out.heading('Reviews and signatures');
  out.note('A review never changes the inspection: the original verdict is printed as recorded, the decision beside it. Each review refers to its signatures by number (Sig.).');
  doc.moveDown(0.3);
  out.table(
    [
      { title: 'Inspection (station / part)', width: 0.15 },
      { title: 'Original verdict', width: 0.13 },
      { title: 'Decision', width: 0.08 },
      { title: 'Reason', width: 0.15 },
      { title: 'Reviewer (printed name)', width: 0.14 },
      { title: 'Reviewed (UTC)', width: 0.21 },
      { title: 'Meaning', width: 0.09 },
      { title: 'Sig.', width: 0.05, align: 'right' },
    ],
    r.reviews.map((v) => [
      // Part IDs are long: on their own line, after the station, so they break at the slash only.
      `${v.inspectionId}\n${v.stationId}${v.partId ? ` / ${v.partId}` : ''}`,
      `${v.originalVerdict}${v.originalReason ? `: ${v.originalReason}` : ''}`,
      v.decision,
      v.reason,
      `${v.reviewerName} (${v.reviewer})`,
      utc(v.at),
      v.meanings.length > 0 ? v.meanings.join(', ') : 'not signed',
      v.signatureIds.length > 0 ? v.signatureIds.map((id) => `#${id}`).join(' ') : '-',
    ]),
    'No inspection of this batch was reviewed.',
  );
  doc.moveDown(0.6);
  out.table(
    [
      { title: 'Sig.', width: 0.06, align: 'right' },
      { title: 'Signed record', width: 0.13 },
      { title: 'Inspection', width: 0.1, align: 'right' },
      { title: 'Printed name (user, role)', width: 0.26 },
      { title: 'Meaning', width: 0.1 },
      { title: 'Signed (UTC)', width: 0.21 },
      { title: 'Valid now', width: 0.14 },
    ],
    r.signatures.map((g) => [
      `#${g.id}`,
      `${g.recordType} ${g.recordId}`,
      String(g.inspectionId),
      `${g.printedName} (${g.username}, ${g.role})`,
      g.meaning,
      utc(g.signedAt),
      g.valid ? 'yes' : 'NO: the record changed since it was signed',
    ]),
    'No inspection of this batch or review of one was signed.',
  );

  out.heading('Audit trail: the batch period and the batch\'s records');
  out.note('Entries made between the first and last inspection, and those about this batch, its inspections or their reviews at any time (reviews, signatures, holds, exports).');
  doc.moveDown(0.3);
  out.table(
    [
      { title: 'Seq', width: 0.05, align: 'right' },
      { title: 'At (UTC)', width: 0.21 },
      { title: 'User (role), client', width: 0.13 },
      { title: 'Action', width: 0.16 },
      { title: 'Object', width: 0.1 },
      { title: 'Change (old -> new)', width: 0.23 },
      { title: 'Reason', width: 0.12 },
    ],
    r.audit.map((a) => [
      String(a.seq),
      utc(a.at),
      `${a.actor.user} (${a.actor.role})${a.client ? `, ${a.client}` : ''}`,
      a.action,
      `${a.objectType} ${a.objectId}`,
      change(a.oldValue, a.newValue),
      a.reason ?? '',
    ]),
    'No audit entry in the batch period or about its records.',
  );
  if (r.audit.some((a) => change(a.oldValue, a.newValue).includes('…'))) {
    doc.moveDown(0.3);
    out.note(`In print, SHA-256 values show their first 12 hex digits and values longer than ${VALUE_CHARS} characters are cut (…); the JSON and CSV exports carry them whole.`);
  }

  out.frame(`lineside batch report ${r.batchId} · content SHA-256 ${r.contentSha256.slice(0, 16)}…`, r.line ? `line ${r.line}` : '');
  doc.end();
  return done;
}
