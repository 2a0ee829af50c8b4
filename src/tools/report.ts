import { rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { AuditRecord } from '../records/audit.js';
import { auditExport, consoleExporter } from '../records/export-audit.js';
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

/**
 * `lineside report batch`: reads the database read-only (beside a running appliance, or a
 * backup), writes the report, then audits the export (`exported`) in that database. If the entry
 * cannot be written the report file is removed: no export leaves the box unrecorded.
 */
export async function writeBatchReport(opts: {
  db: string;
  batchId: string;
  format: ReportFormat;
  out?: string;
  line?: string | null;
  /** Holds audit.key; default the database's folder. */
  dataDir?: string;
  /** A user of the records to record as the exporter instead of the OS account. */
  user?: string;
}): Promise<{ file: string; report: BatchReport; audit: AuditRecord }> {
  const osUser = userInfo().username;
  const db = openDatabaseReadOnly(opts.db);
  let report: BatchReport;
  let exporter;
  try {
    exporter = consoleExporter(db, osUser, opts.user);
    report = readBatchReport(db, opts.batchId, { generatedBy: exporter.actor, line: opts.line ?? null });
  } finally {
    db.close();
  }
  const { body, fileName } = await renderBatchReport(report, opts.format);
  const file = resolve(opts.out ?? join('.', fileName));
  writeFileSync(file, body);
  try {
    const audit = auditExport({ file: opts.db, dataDir: opts.dataDir ?? dirname(opts.db), ...exporter, batchId: report.batchId, format: opts.format, out: file, bytes: body.length, contentSha256: report.contentSha256 });
    return { file, report, audit };
  } catch (cause) {
    rmSync(file, { force: true });
    throw new LinesideError(ErrorCode.storage, `the export could not be audited, report not written: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
