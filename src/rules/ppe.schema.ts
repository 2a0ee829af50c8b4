import { z } from 'zod';

/**
 * Zone-station PPE options (README: PPE compliance): polygon zones, what each PPE item looks like
 * to the model, tracking and privacy. Spread into the zone station's schema in config/schema.ts.
 */

const zoneId = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'must be letters, digits, "-" or "_", starting with a letter, at most 32 characters');
const label = z.string().min(1);

/** A point in original-image pixels. */
const point = z.tuple([z.number().min(0), z.number().min(0)]);

const zone = z.strictObject({
  id: zoneId,
  name: z.string().min(1).max(80).optional(),
  /** Polygon in original-image pixels, at least three corners, in order (either direction). */
  polygon: z.array(point).min(3).max(64),
  /** PPE items (keys of `ppe.items`) everyone in this zone must wear. */
  require: z.array(label).min(1),
});

const ppeItem = z.strictObject({
  /** Labels meaning "this item is missing" (e.g. `hand_bare`): any one on a person is a violation. */
  missing: z.array(label).min(1),
  /** Labels meaning "this item is worn" (recorded; a person with neither is not judged on this item). */
  worn: z.array(label).default([]),
  /** Reject code in the inspection record when this item is missing. */
  code: z.number().int().min(1).max(32767).optional(),
});

export const ppeSchema = z.strictObject({
  /**
   * Label of the model's person class. Omit when the model has none: each head box (`headLabels`)
   * then stands for a person, its body estimated below it.
   */
  personLabel: label.optional(),
  /** Face or head classes: blurred in evidence, and the anchor of a person when there is no person class. */
  headLabels: z.array(label).default([]),
  /** PPE items by name, as zones require them. */
  items: z.record(label, ppeItem),
  /** Detections below this score are not assigned to anyone. */
  minScore: z.number().min(0).max(1).default(0.5),
  /** Body size in head sizes, for persons derived from heads (height below the head top, width centred). */
  bodyFromHead: z.strictObject({ height: z.number().min(1).max(12).default(4.7), width: z.number().min(1).max(8).default(3.4) }).prefault({}),
});

export const trackingSchema = z.strictObject({
  /** A person not seen for more than this many frames in a row is gone (their track ends). */
  maxMissedFrames: z.number().int().min(0).max(100).default(3),
  /** Least IoU to continue a track; below it the nearest centre within `maxJump` of the box size may. */
  minIou: z.number().min(0).max(1).default(0.2),
  /** Largest centre jump between frames, in box diagonals, for a centroid match. */
  maxJump: z.number().min(0).max(10).default(1),
});

export const privacySchema = z.strictObject({
  /** Blur faces in every stored evidence image. */
  blurFaces: z.boolean().default(true),
  /** Write evidence images of frames where everyone in a zone is compliant (only with the station's `evidence` verdicts). */
  storeCompliant: z.boolean().default(false),
  /** In a frame with a violation, compliant people are blurred whole (`person`) or only their faces (`face`). */
  compliantPeople: z.enum(['person', 'face']).default('person'),
  /** Share of a person box's height taken as the face when the model has no head/face class. */
  faceShare: z.number().min(0.05).max(1).default(0.22),
  /**
   * Key into `models`: a face detector (e.g. BlazeFace, config/pretrained/) run on every frame to
   * find the faces to blur in evidence and the live view. A person the station's model found whose
   * face it did not find is still blurred by the station model's head box. Omit to blur by the
   * station model's head boxes alone.
   */
  faceModel: z.string().min(1).optional(),
  /** Margin added on each side of a face model's box, as a share of its size (hair, ears, chin). */
  faceMargin: z.number().min(0).max(1).default(0.25),
});

/** The keys a zone station adds. */
export const zonePpeOptions = {
  /** Polygon zones with the PPE their occupants must wear; omit to judge the whole image by `rules` alone. */
  zones: z.array(zone).max(32).default([]),
  ppe: ppeSchema.optional(),
  tracking: trackingSchema.prefault({}),
  privacy: privacySchema.prefault({}),
};

type ZonePpeShape = { zones: z.output<typeof zone>[]; ppe?: z.output<typeof ppeSchema> | undefined };

/** Cross-key checks: zones need `ppe`, zone ids are unique, every required item is defined. */
export function checkZonePpe(s: ZonePpeShape, ctx: z.core.$RefinementCtx): void {
  if (s.zones.length === 0) return;
  if (!s.ppe) {
    ctx.addIssue({ code: 'custom', path: ['ppe'], message: 'zones are configured: give ppe.items (what each required item looks like to the model)' });
    return;
  }
  if (s.ppe.personLabel === undefined && s.ppe.headLabels.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['ppe', 'headLabels'], message: 'without a personLabel, give the head/face classes persons are found by' });
  }
  const seen = new Set<string>();
  s.zones.forEach((zn, i) => {
    if (seen.has(zn.id)) ctx.addIssue({ code: 'custom', path: ['zones', i, 'id'], message: `duplicate zone id "${zn.id}"` });
    seen.add(zn.id);
    zn.require.forEach((item, j) => {
      if (!Object.hasOwn(s.ppe!.items, item)) {
        ctx.addIssue({ code: 'custom', path: ['zones', i, 'require', j], message: `"${item}" is not defined under ppe.items (defined: ${Object.keys(s.ppe!.items).join(', ') || 'none'})` });
      }
    });
  });
}

export type PpeConfig = z.output<typeof ppeSchema>;
export type ZoneConfig = z.output<typeof zone>;
export type TrackingConfig = z.output<typeof trackingSchema>;
export type PrivacyConfig = z.output<typeof privacySchema>;
