import type { SourceConfig } from '../config/schema.js';
import { assertNever } from '../domain/assert.js';
import type { FrameSource } from './frame-source.js';
import { ReplaySource } from './replay.source.js';
import { SnapshotSource } from './snapshot.source.js';

/** One factory, one case per camera kind. */
export function createSource(cfg: SourceConfig): FrameSource {
  const type = cfg.type;
  switch (type) {
    case 'replay':
      return new ReplaySource(cfg.path);
    case 'snapshot':
      return new SnapshotSource(cfg.url, cfg.timeoutMs);
    default:
      return assertNever(type, 'source type');
  }
}
