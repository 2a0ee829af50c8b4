import { z } from 'zod';

/** Image files a smart camera writes; matched case-insensitively against the file name. */
export const DEFAULT_INCLUDE = String.raw`\.(jpe?g|png|bmp|tiff?)$`;

function compiles(pattern: string, flags = ''): boolean {
  try {
    new RegExp(pattern, flags);
    return true;
  } catch {
    return false;
  }
}

/** Number of capture groups in a (valid) pattern: `x|` always matches the empty string. */
function captureGroups(pattern: string): number {
  return new RegExp(`${pattern}|`).exec('')!.length - 1;
}

export const folderSourceSchema = z.strictObject({
  type: z.literal('folder'),
  /** The folder the camera writes into (FTP target, share). It must exist; lineside never creates it. */
  path: z.string().min(1),
  /** Regular expression a file name must match to be inspected (case-insensitive). */
  include: z
    .string()
    .min(1)
    .refine((p) => compiles(p, 'i'), 'must be a valid regular expression')
    .default(DEFAULT_INCLUDE),
  /** A file is complete once its size and modification time have not changed for this long (FTP writes in pieces). */
  settleMs: z.number().int().min(0).max(60_000).default(300),
  /** What happens to a file once its inspection is recorded. */
  afterInspection: z.enum(['move', 'mark', 'delete']).default('move'),
  /** For `move`: where inspected files go, in a dated subfolder `YYYY-MM-DD/`. Default `<path>/processed`. */
  processedPath: z.string().min(1).optional(),
  /** For `mark`: the file is renamed in place to `name.jpg<markSuffix>`, which is never picked up again. */
  markSuffix: z
    .string()
    .min(1)
    .refine((s) => !/[\\/]/.test(s), 'must not contain a path separator')
    .default('.done'),
  /**
   * Regular expression applied to the file name that yields the part ID: the named group `id`, or
   * else the first capture group, e.g. `^(?<id>[A-Z0-9]+)_`. A name that does not match gives no part ID.
   */
  partIdPattern: z
    .string()
    .min(1)
    .refine((p) => compiles(p), 'must be a valid regular expression')
    .refine((p) => !compiles(p) || captureGroups(p) > 0, 'must contain a capture group, e.g. (?<id>...)')
    .optional(),
  /** The folder is watched and also rescanned this often (network shares and some FTP servers send no events). */
  pollMs: z.number().int().min(20).max(60_000).default(250),
  /** More files than this waiting → health degraded (inspection is not keeping up, or nothing is grabbing). */
  maxPending: z.number().int().min(1).max(1_000_000).default(1000),
});
export type FolderSourceConfig = z.output<typeof folderSourceSchema>;
