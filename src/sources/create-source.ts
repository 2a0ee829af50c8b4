import type { SourceConfig } from '../config/schema.js';
import { assertNever } from '../domain/assert.js';
import { folderSource } from './folder.source.js';
import type { FrameSource } from './frame-source.js';
import { genicamSource } from './genicam.source.js';
import { mjpegSource } from './mjpeg.source.js';
import { replaySource } from './replay.source.js';
import { rtspSource } from './rtsp.source.js';
import { snapshotSource } from './snapshot.source.js';
import type { SourceContext } from './source-options.js';
import { v4l2Source } from './v4l2.source.js';

/** One factory, one case per camera kind. */
export function createSource(cfg: SourceConfig, ctx: SourceContext): FrameSource {
  switch (cfg.type) {
    case 'rtsp':
      return rtspSource(cfg, ctx);
    case 'mjpeg':
      return mjpegSource(cfg, ctx);
    case 'snapshot':
      return snapshotSource(cfg, ctx);
    case 'v4l2':
      return v4l2Source(cfg, ctx);
    case 'folder':
      return folderSource(cfg, ctx);
    case 'replay':
      return replaySource(cfg, ctx);
    case 'genicam':
      return genicamSource(cfg, ctx);
    default:
      return assertNever(cfg, 'source type');
  }
}
