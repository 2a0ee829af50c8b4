import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function writeTemp(pdf: Buffer): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lineside-pdf-'));
  const file = join(dir, 'r.pdf');
  writeFileSync(file, pdf);
  return { dir, file };
}

function poppler(tool: string, args: string[]): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`${tool} (Debian package poppler-utils, installed by .ci/run) could not read the report: ${(e as Error).message}`);
  }
}

/** The PDF's text as poppler's pdftotext reads it: what any PDF reader shows. */
export function pdfText(pdf: Buffer): string {
  const { file } = writeTemp(pdf);
  return poppler('pdftotext', ['-layout', file, '-']);
}

/** Every page rendered by poppler's pdftoppm at `dpi`, as PNG files in page order. */
export function pdfPages(pdf: Buffer, dpi: number): { files: string[]; pngs: Buffer[] } {
  const { dir, file } = writeTemp(pdf);
  poppler('pdftoppm', ['-r', String(dpi), '-png', file, join(dir, 'page')]);
  const files = readdirSync(dir)
    .filter((f) => /^page-\d+\.png$/.test(f))
    .sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]))
    .map((f) => join(dir, f));
  return { files, pngs: files.map((f) => readFileSync(f)) };
}
