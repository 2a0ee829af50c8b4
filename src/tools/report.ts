import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Actor } from '../records/audit.js';
import { readBatchReport, type BatchReport } from '../records/batch-report.js';
import { batchReportCsv } from '../records/batch-report.csv.js';
import { batchReportPdf } from '../records/batch-report.pdf.js';
import { openDatabaseReadOnly } from '../store/db.js';

export const REPORT_FORMATS = ['pdf', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const isReportFormat = (f: string): f is ReportFormat => (REPORT_FORMATS as readonly string[]).includes(f);

/** The report in one of its formats, with the file name a download or the CLI gives it. */
export async function renderBatchReport(r: BatchReport, format: ReportFormat): Promise<{ body: Buffer; fileName: string; contentType: string }> {
  const fileName = `batch-${r.batchId.replace(/[^\w.-]+/g, '_')}.${format}`;
  switch (format) {
    case 'pdf':
      return { body: await batchReportPdf(r), fileName, contentType: 'application/pdf' };
    case 'csv':
      return { body: Buffer.from(batchReportCsv(r)), fileName, contentType: 'text/csv; charset=utf-8' };
    case 'json':
      return { body: Buffer.from(`${JSON.stringify(r, null, 2)}\n`), fileName, contentType: 'application/json' };
  }
}

/** Who runs the command on the box: the operating-system account, as the appliance itself. */
export function cliActor(): Actor {
  return { user: `cli:${userInfo().username}`, role: 'system' };
}

/**
 * `lineside report batch`: reads the database read-only (beside a running appliance, or a
 * backup), writes the report, returns where.
 */
export async function writeBatchReport(opts: { db: string; batchId: string; format: ReportFormat; out?: string; line?: string | null }): Promise<{ file: string; report: BatchReport }> {
  const db = openDatabaseReadOnly(opts.db);
  let report: BatchReport;
  try {
    report = readBatchReport(db, opts.batchId, { generatedBy: cliActor(), line: opts.line ?? null });
  } finally {
    db.close();
  }
  const { body, fileName } = await renderBatchReport(report, opts.format);
  const file = resolve(opts.out ?? join('.', fileName));
  writeFileSync(file, body);
  return { file, report };
}
