import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { ImageData } from '../domain/frame.js';
import { analysisImage, estimateShift, exposureStats, fromPng, laplacianVariance, toPng, viewOf, type GreyImage } from './image-metrics.js';

/**
 * Image health checks for one camera: blur, over-/under-exposure, frozen image and camera moved
 * (against a stored reference view). Results are warnings for supervisors and metrics, never
 * verdicts. Everything but "frozen" works on a small grey copy of the frame (ANALYSIS_WIDTH wide),
 * so the numbers mean the same for a 640 px and a 1920 px camera.
 *
 * Figures quoted below were measured on the repository's fixtures (fixtures/blister, 640×400;
 * fixtures/hopper, 480×480; fixtures/gowning, 640×360; 76 JPEGs in all).
 */
export const imageHealthSchema = z
  .strictObject({
    /** Run the checks at all (off: no monitor is made for the camera). */
    enabled: z.boolean().default(true),
    /** At most one analysis per this many ms of frame time; frames in between are not looked at. */
    intervalMs: z.number().int().min(100).max(600_000).default(1000),
    /**
     * Without a reference view: "blurred" below this sharpness (variance of the Laplacian at 320 px).
     * The sharp fixtures measure 63–448 (gowning 63–202, hopper 215–270, blister 341–448); blurred
     * with sharp's blur(sigma) before analysis: sigma 2 → 7–67, sigma 3 → 2.8–23, sigma 6 → 1.2–4.6.
     * 15 is well below the plainest sharp scene (63) and well above anything blurred by sigma 6
     * (<= 4.6). A busy scene blurred by sigma 2–3 (blister: 17–67) stays above it: catching that
     * needs the reference view (blurRatio).
     */
    minSharpness: z.number().min(0).max(100_000).default(15),
    /**
     * With a reference view: "blurred" below this fraction of the reference's sharpness (corrected
     * for contrast, see #analyse). Blurring a fixture by sigma 1 px keeps 0.26–0.58 of its
     * sharpness, by sigma 2 px 0.03–0.16.
     */
    blurRatio: z.number().min(0.05).max(1).default(0.5),
    /** "underexposed" when the mean grey level (0–255) is below this. */
    darkMean: z.number().min(0).max(255).default(35),
    /** "overexposed" when the mean grey level is above this. */
    brightMean: z.number().min(0).max(255).default(220),
    /** "underexposed"/"overexposed" also when more than this fraction of pixels is black (<= 5) / white (>= 250). */
    clipFraction: z.number().min(0.01).max(1).default(0.4),
    /** "frozen" once the frame bytes have been identical for this long. */
    frozenAfterMs: z.number().int().min(500).max(3_600_000).default(5000),
    /** Check the view against the reference ("camera moved"). */
    moved: z.boolean().default(true),
    /** "moved" when the image is shifted more than this, in percent of width or height. */
    movedPct: z.number().min(0.5).max(25).default(3),
    /** Largest shift looked for, in percent of width/height; larger moves read as low similarity. */
    maxSearchPct: z.number().min(2).max(25).default(15),
    /** "moved" (or view blocked) when the best match with the reference scores below this (normalised cross-correlation). */
    minSimilarity: z.number().min(0).max(1).default(0.4),
    /**
     * "moved" only after this many analyses in a row were off the reference. Parts in view move
     * from frame to frame: the blister fixtures place the card within ±12 px (±1.9 % of width,
     * ±3 % of height) and ±2° of rotation, so against blister-0000 as reference 9 of the other
     * 39 frames read more than 3 % off on their own, but never 5 in a row (longest run 3); a real
     * camera move shows on every frame. Against a reference whose card happens to lie at the edge
     * of that range, up to half of the frames read off on their own: where parts fill the view,
     * raise movedPct.
     */
    movedAfter: z.number().int().min(1).max(100).default(5),
    /** Without a reference file, take the first well-exposed frame analysed as the reference view (commissioning). */
    captureReference: z.boolean().default(true),
  })
  .refine((c) => c.darkMean < c.brightMean, { message: 'darkMean must be below brightMean', path: ['darkMean'] })
  .refine((c) => c.movedPct < c.maxSearchPct, { message: 'movedPct must be below maxSearchPct', path: ['movedPct'] });

export type ImageHealthConfig = z.output<typeof imageHealthSchema>;

export type ImageWarning = 'blurred' | 'overexposed' | 'underexposed' | 'frozen' | 'moved';

export interface ImageHealthReport {
  /** Epoch ms of the observed frame. */
  readonly at: number;
  /** Variance of the Laplacian on the grey analysis image (ANALYSIS_WIDTH wide). */
  readonly sharpness: number;
  /** Mean grey level, 0..255. */
  readonly meanLuma: number;
  /** Fraction of pixels >= 250. */
  readonly clippedHigh: number;
  /** Fraction of pixels <= 5. */
  readonly clippedLow: number;
  /** How long the frame bytes have been identical (0 if changing). */
  readonly frozenForMs: number;
  /**
   * This frame against the reference view, in percent of width/height: positive dx = scene content
   * moved right in the image (the camera turned left), positive dy = content moved down. Similarity
   * is the normalised cross-correlation at that shift (1 = same structure). Null without a
   * reference, or with `moved: false`.
   */
  readonly shift: { readonly dx: number; readonly dy: number; readonly similarity: number } | null;
  readonly warnings: readonly ImageWarning[];
  /** One human sentence for the page; null when there are no warnings. */
  readonly detail: string | null;
}

/** The reference view and what is derived from it once. */
interface Reference {
  readonly sharpness: number;
  readonly contrast: number;
  readonly view: GreyImage;
}

function referenceFrom(image: GreyImage): Reference {
  return { sharpness: laplacianVariance(image), contrast: exposureStats(image).contrast, view: viewOf(image) };
}

/** Write via a temporary file in the same folder and a rename, so a reader never sees half a file. */
async function writeAtomic(path: string, data: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f || 0; // no -0 in reports
};

/** "6% right, 2% down" for a shift (positive = content moved right/down). */
function describeShift(dx: number, dy: number, movedPct: number): string {
  const parts: string[] = [];
  if (Math.abs(dx) > movedPct) parts.push(`${Math.round(Math.abs(dx))}% ${dx > 0 ? 'right' : 'left'}`);
  if (Math.abs(dy) > movedPct) parts.push(`${Math.round(Math.abs(dy))}% ${dy > 0 ? 'down' : 'up'}`);
  return parts.join(', ');
}

/**
 * Image health of one camera. `offer` every frame; at most one analysis per `intervalMs` of frame
 * time runs in the background, and `latest()` holds its report.
 */
export class ImageHealthMonitor {
  readonly #config: ImageHealthConfig;
  readonly #referencePath: string | null;
  /** undefined: the reference file has not been looked for yet. */
  #reference: Reference | null | undefined;
  #latest: ImageHealthReport | null = null;
  /** Analyses run one after another on this chain. */
  #chain: Promise<unknown> = Promise.resolve();
  #inFlight = 0;
  /** Frame time of the last analysis `offer` started. */
  #lastOfferAt: number | null = null;
  /** sha1 of the last frame analysed, and the frame time its run of identical frames began. */
  #hash: string | null = null;
  #hashSince = 0;
  /** Analyses in a row that were off the reference. */
  #offRun = 0;

  constructor(opts: { config: ImageHealthConfig; referencePath: string | null }) {
    this.#config = opts.config;
    this.#referencePath = opts.referencePath;
  }

  /**
   * Cheap to call on every frame: analyses at most one frame per config.intervalMs (of frame time
   * `at`) and never two at once, in the background; `latest()` has the result. Never throws: a
   * frame that cannot be decoded is skipped.
   */
  offer(img: ImageData, at: number): void {
    if (!this.#config.enabled || this.#inFlight > 0) return;
    // A frame time before the last one (clock stepped back, source restarted) starts afresh.
    if (this.#lastOfferAt !== null && at >= this.#lastOfferAt && at - this.#lastOfferAt < this.#config.intervalMs) return;
    this.#lastOfferAt = at;
    // A frame that cannot be decoded is skipped; the next interval tries the next frame.
    this.analyse(img, at).catch(() => undefined);
  }

  /** The latest report; null before the first analysis. */
  latest(): ImageHealthReport | null {
    return this.#latest;
  }

  /** Analyse now, after any analysis in flight (tests, probe tool). Rejects on undecodable input. */
  analyse(img: ImageData, at: number): Promise<ImageHealthReport> {
    this.#inFlight++;
    const run = this.#chain.then(() => this.#analyse(img, at));
    const done = run.finally(() => this.#inFlight--);
    this.#chain = done.catch(() => undefined);
    return done;
  }

  /** Make img the reference view, writing referencePath atomically (folder created). Rejects on undecodable input or a failed write. */
  async setReference(img: ImageData): Promise<void> {
    const image = await analysisImage(img);
    await this.#storeReference(image);
  }

  /** Whether there is a reference view (in memory, or a file not read yet). */
  hasReference(): boolean {
    if (this.#reference !== undefined) return this.#reference !== null;
    return this.#referencePath !== null && existsSync(this.#referencePath);
  }

  /** Resolves once no analysis is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inFlight > 0) await this.#chain;
  }

  async #storeReference(image: GreyImage): Promise<void> {
    if (this.#referencePath !== null) await writeAtomic(this.#referencePath, await toPng(image));
    this.#reference = referenceFrom(image);
    this.#offRun = 0;
  }

  /** The reference view, read from its file the first time it is needed. */
  async #loadReference(): Promise<Reference | null> {
    if (this.#reference !== undefined) return this.#reference;
    let ref: Reference | null = null;
    if (this.#referencePath !== null) {
      try {
        ref = referenceFrom(await fromPng(await readFile(this.#referencePath)));
      } catch {
        // Missing (a new camera) or unreadable: no reference. With captureReference the next
        // well-exposed frame replaces it.
        ref = null;
      }
    }
    // setReference may have finished while the file was read; its reference wins.
    if (this.#reference === undefined) this.#reference = ref;
    return this.#reference;
  }

  async #analyse(img: ImageData, at: number): Promise<ImageHealthReport> {
    const cfg = this.#config;
    const hash = createHash('sha1').update(img.data).digest('hex');
    const image = await analysisImage(img); // throws on undecodable input, before any state changes
    let ref = await this.#loadReference();

    if (hash !== this.#hash) {
      this.#hash = hash;
      this.#hashSince = at;
    }
    const frozenForMs = Math.max(0, at - this.#hashSince);

    const sharpness = laplacianVariance(image);
    const { meanLuma, clippedHigh, clippedLow, contrast } = exposureStats(image);
    const dark = meanLuma < cfg.darkMean || clippedLow > cfg.clipFraction;
    const bright = meanLuma > cfg.brightMean || clippedHigh > cfg.clipFraction;
    const exposureOk = !dark && !bright;

    if (ref === null && cfg.captureReference && exposureOk) {
      try {
        await this.#storeReference(image);
        ref = this.#reference ?? null;
      } catch {
        // Could not write the file: no reference yet; the next analysis tries again.
      }
    }

    let shift: ImageHealthReport['shift'] = null;
    if (ref !== null && cfg.moved) {
      const view = viewOf(image);
      // A frame of another aspect ratio than the reference is not the same view at all.
      const s =
        view.width === ref.view.width && view.height === ref.view.height
          ? estimateShift(ref.view, view, cfg.maxSearchPct)
          : { dx: 0, dy: 0, similarity: 0 };
      shift = { dx: round(s.dx, 1), dy: round(s.dy, 1), similarity: round(s.similarity, 2) };
      // A badly exposed frame says nothing about focus or position: the run neither grows nor resets.
      if (exposureOk) {
        const off = Math.abs(s.dx) > cfg.movedPct || Math.abs(s.dy) > cfg.movedPct || s.similarity < cfg.minSimilarity;
        this.#offRun = off ? this.#offRun + 1 : 0;
      }
    }

    const warnings: ImageWarning[] = [];
    const details: string[] = [];
    // Blur is judged only on a well-exposed frame: a dark or washed-out image has little contrast
    // and would read as blurred too, which would send people to the lens instead of the lighting.
    // The Laplacian's variance grows with the square of contrast: the same scene 40 % dimmer reads
    // 0.36× as sharp (blister-0000: 409 → 149) though nothing is out of focus. Against a reference
    // the limit is therefore scaled by (contrast / reference contrast)², i.e. sharpness/contrast²
    // is compared, which dimming leaves alone (blister-0000: 0.068, at 0.6× 0.069) and blur does
    // not (sigma 6: 0.0008). Contrast is the standard deviation of the grey levels.
    // The factor is kept within 0.1–10 so a blank frame (no contrast at all) still reads as blurred.
    const blurLimit =
      ref !== null
        ? cfg.blurRatio * ref.sharpness * Math.min(10, Math.max(0.1, ref.contrast > 0 ? (contrast / ref.contrast) ** 2 : 1))
        : cfg.minSharpness;
    if (exposureOk && sharpness < blurLimit) {
      warnings.push('blurred');
      details.push(`image blurred (sharpness ${Math.round(sharpness)}, ${ref !== null ? `reference ${Math.round(ref.sharpness)}` : `minimum ${cfg.minSharpness}`})`);
    }
    if (bright) {
      warnings.push('overexposed');
      details.push(`image overexposed (mean brightness ${Math.round(meanLuma)} of 255, ${Math.round(clippedHigh * 100)}% of pixels white)`);
    }
    if (dark) {
      warnings.push('underexposed');
      details.push(`image underexposed (mean brightness ${Math.round(meanLuma)} of 255, ${Math.round(clippedLow * 100)}% of pixels black)`);
    }
    if (frozenForMs >= cfg.frozenAfterMs) {
      warnings.push('frozen');
      details.push(`image frozen for ${Math.round(frozenForMs / 1000)} s (identical frames)`);
    }
    if (shift !== null && exposureOk && this.#offRun >= cfg.movedAfter) {
      warnings.push('moved');
      const where = describeShift(shift.dx, shift.dy, cfg.movedPct);
      details.push(
        shift.similarity < cfg.minSimilarity || where === ''
          ? `camera moved or view blocked (similarity ${shift.similarity.toFixed(2)} with the reference view)`
          : `camera moved (image shifted ${where} from the reference view)`,
      );
    }

    const report: ImageHealthReport = {
      at,
      sharpness: round(sharpness, 1),
      meanLuma: round(meanLuma, 1),
      clippedHigh: round(clippedHigh, 4),
      clippedLow: round(clippedLow, 4),
      frozenForMs,
      shift,
      warnings,
      detail: details.length > 0 ? details.join('; ') : null,
    };
    this.#latest = report;
    return report;
  }
}
