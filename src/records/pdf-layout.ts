export const MARGIN = 48;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';

export interface Column {
  readonly title: string;
  /** Share of the text width. */
  readonly width: number;
  readonly align?: 'left' | 'right';
}

/**
 * Lays out one A4 report: headings, key/value lines and tables that continue across pages with
 * their header row repeated. Every page gets the batch, the report's content hash and "page i of n".
 */
export class Layout {
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

