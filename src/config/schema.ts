import { z } from 'zod';
import { folderSourceSchema } from '../sources/folder.config.js';
import { genicamSourceSchema } from '../sources/genicam.source.js';
import { imageHealthSchema } from '../sources/image-health.js';
import { mjpegSourceSchema } from '../sources/mjpeg.source.js';
import { replaySourceSchema } from '../sources/replay.source.js';
import { rtspSourceSchema } from '../sources/rtsp.source.js';
import { snapshotSourceSchema } from '../sources/snapshot.source.js';
import { v4l2SourceSchema } from '../sources/v4l2.source.js';
import { checkZonePpe, zonePpeOptions } from '../rules/ppe.schema.js';
import { evidenceRetentionSchema } from '../store/evidence-retention.js';

/**
 * The configuration schema: one YAML file, strict (unknown keys are errors), with defaults and
 * bounds. `load.ts` turns a parse failure into a message naming the station and the key.
 */

const id = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be lower-case letters, digits, "-" or "_", starting with a letter, at most 32 characters');

/** Region of interest in original-image pixels. */
const roi = z.strictObject({
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  w: z.number().int().min(1),
  h: z.number().int().min(1),
});

/** One schema per camera kind, each beside its adapter. */
export const sourceSchema = z.discriminatedUnion('type', [
  rtspSourceSchema,
  mjpegSourceSchema,
  snapshotSourceSchema,
  v4l2SourceSchema,
  folderSourceSchema,
  replaySourceSchema,
  genicamSourceSchema,
]);

const classRule = z.strictObject({
  /** Score at or above which this class rejects the part (or raises the zone/cleaning finding). */
  reject: z.number().min(0).max(1).optional(),
  /** Score at or above which, but below `reject`, the part is inconclusive. */
  inconclusive: z.number().min(0).max(1).optional(),
  /** `RejectCode` written to the PLC when this class decides the verdict. */
  code: z.number().int().min(1).max(32767).optional(),
  /** For a classifier: the class that means "good"; a part passes only if it wins with this score. */
  pass: z.number().min(0).max(1).optional(),
});

const rules = z.strictObject({
  /** Only detections whose centre lies in this region count. Omit to use the whole image. */
  roi: roi.optional(),
  /** Per-class thresholds; classes not listed are recorded but do not decide. */
  classes: z.record(z.string().min(1), classRule).default({}),
  /** Detections below this score are not even recorded. */
  minScore: z.number().min(0).max(1).default(0.25),
  /** Expected number of detections of one class in the ROI (e.g. tablets per blister). */
  expectCount: z.strictObject({ label: z.string().min(1), count: z.number().int().min(0), code: z.number().int().min(1).max(32767).default(90) }).optional(),
});

/** What a recipe may change of a station's rules; each key given replaces the station's own. */
const recipeRules = z.strictObject({
  roi: roi.optional(),
  classes: z.record(z.string().min(1), classRule).optional(),
  minScore: z.number().min(0).max(1).optional(),
  expectCount: z.strictObject({ label: z.string().min(1), count: z.number().int().min(0), code: z.number().int().min(1).max(32767).default(90) }).optional(),
});

const secondStage = z.strictObject({
  /** Key into `models`: the model that judges each region. */
  model: id,
  /** Region labels passed on; omit for every detection. */
  classes: z.array(z.string().min(1)).default([]),
  /** Regions scoring below this are not passed on. */
  minScore: z.number().min(0).max(1).default(0.5),
  /** Margin added around each region before cropping, as a fraction of its size. */
  pad: z.number().min(0).max(1).default(0.1),
  /** At most this many regions per frame, highest scores first. */
  maxRegions: z.number().int().min(1).max(256).default(32),
});

const alongside = z.strictObject({
  /** Key into `models`: a whole-frame model (typically a taught anomaly model) run beside the station's own. */
  model: id,
  /** Its regions (or, without regions, its defect score) become detections of this label for the rules. */
  label: z.string().min(1).default('anomaly'),
  /**
   * A region whose centre lies in a detection of one of these labels (or that holds one's centre)
   * is explained by it and not reported again, so the reason names the specific defect.
   */
  explainedBy: z.array(z.string().min(1)).default([]),
});

/**
 * One product/format the PLC selects by `RecipeIndex`: the keys a changeover changes. Keys left
 * out are the station's own; `secondStage: null` runs the recipe without the station's second stage.
 */
const recipe = z.strictObject({
  name: z.string().min(1).max(80).optional(),
  /** Key into `models`. */
  model: id.optional(),
  secondStage: secondStage.nullable().optional(),
  rules: recipeRules.optional(),
});

/** PLC RecipeIndex (an Int16 the PLC writes, 0 … 32767) → recipe. */
const recipes = z.record(
  z.string().regex(/^(0|[1-9][0-9]{0,4})$/, 'recipe index must be a whole number from 0 to 32767').refine((k) => Number(k) <= 32767, 'recipe index must be a whole number from 0 to 32767'),
  recipe,
);

const stationPlc = z.strictObject({
  /**
   * Prefix prepended to each tag name to form its node ID, e.g. `ns=1;s=blister.`, or a pattern
   * with `{tag}` (and `{station}`), e.g. `ns=3;s="VisionDB"."{tag}"` for an S7-1500 data block.
   */
  tagPrefix: z.string().min(1).optional(),
  /** Explicit node IDs per tag (override the prefix), e.g. `Result: ns=3;s="VisionDB"."Result"`. */
  tags: z.record(z.string(), z.string().min(1)).default({}),
});

const stationBase = {
  id,
  name: z.string().min(1).max(80).optional(),
  source: sourceSchema,
  /** Key into `models`. */
  model: id,
  /**
   * Two-stage inspection: regions the station's model finds are cropped and judged by a second
   * model (classifier or anomaly). Its answer comes back as a detection labelled `<region>/<class>`
   * on the region's box, for the rules, e.g. `face/no_mask: { reject: 0.5, code: 20 }`.
   */
  secondStage: secondStage.optional(),
  /**
   * A second whole-frame model run at the same time on the same frame, e.g. the anomaly model
   * `lineside teach` builds beside a supervised detector: what the detector has no class for still
   * rejects, as `<label>` (default `anomaly`) with its box.
   */
  alongside: alongside.optional(),
  rules: rules.default({ classes: {}, minScore: 0.25 }),
  plc: stationPlc.default({ tags: {} }),
  /** Bounded queue between trigger and inspection; a trigger that finds it full is answered not-inspected. */
  queueDepth: z.number().int().min(1).max(64).default(4),
  /**
   * Inspections per second for free-running stations (zone, part with trigger: interval). Defaults
   * to the source's own `fps` where it has one, else 2.
   */
  fps: z.number().positive().max(60).optional(),
  /** Image health checks on this camera (blur, exposure, frozen image, camera moved): warnings on the page and in metrics. */
  imageHealth: imageHealthSchema.prefault({}),
  /** Save an evidence JPEG for these verdicts (rejects always). */
  evidence: z.array(z.enum(['pass', 'reject', 'inconclusive', 'not_inspected'])).default(['reject', 'inconclusive']),
};

const partStation = z.strictObject({
  ...stationBase,
  kind: z.literal('part'),
  /**
   * `plc`: one inspection per TriggerCount increment, on the first frame taken after the trigger.
   * `interval`: free-running at the station's fps. `frame`: every frame the source delivers is one
   * part (a smart camera writing one file per part into a folder).
   */
  trigger: z.enum(['plc', 'interval', 'frame']).default('plc'),
  /** A frame older than this when inspected is never inspected (answer not-inspected). */
  maxFrameAgeMs: z.number().int().min(10).max(60_000).default(2000),
  /**
   * Recipes by PLC `RecipeIndex` (trigger: plc only). Omit and the station's own model and rules
   * serve every index the PLC selects; give them and an index not listed stops the station.
   */
  recipes: recipes.optional(),
});

const zoneStation = z.strictObject({
  ...stationBase,
  kind: z.literal('zone'),
  /** A violation must persist this long before the alarm is raised. */
  raiseAfterMs: z.number().int().min(0).max(600_000).default(3000),
  /** The alarm clears after this long without the violation. */
  clearAfterMs: z.number().int().min(0).max(600_000).default(5000),
  ...zonePpeOptions,
}).superRefine(checkZonePpe);

const cleaningStation = z.strictObject({
  ...stationBase,
  kind: z.literal('cleaning'),
  /** Number of views captured per verification. */
  views: z.number().int().min(1).max(16).default(3),
  /**
   * Residue localisation: each view is compared with the clean reference image of its equipment
   * (aligned, exposure-matched); changed regions are residue with box and area. Omit to judge by
   * the model alone.
   */
  residue: z
    .strictObject({
      /** Clean reference image of the station's equipment (used for equipment IDs not in `references`). */
      reference: z.string().min(1).optional(),
      /** Clean reference image per equipment ID (the ID the page or the PLC's PartId gives). */
      references: z.record(z.string().min(1), z.string().min(1)).default({}),
      /** Relative change of a pixel (after alignment and exposure matching) that counts as residue. */
      threshold: z.number().min(0.01).max(5).default(0.15),
      /** Regions smaller than this many pixels are ignored as noise. */
      minAreaPx: z.number().int().min(1).default(60),
      /** A view with residue covering at least this percentage of it fails. */
      rejectAreaPercent: z.number().min(0).max(100).default(0.05),
      /** Largest camera shift searched when aligning a view on its reference, pixels. */
      maxShiftPx: z.number().int().min(0).max(64).default(8),
      /** Only this part of each view is compared; omit for the whole view. */
      region: roi.optional(),
      /** RejectCode of a residue failure. */
      code: z.number().int().min(1).max(32767).default(31),
    })
    .optional(),
  /** After a failed check, hold `Ready` false for this station until a check passes. */
  holdReadyUntilPass: z.boolean().default(false),
});

export const stationSchema = z.discriminatedUnion('kind', [partStation, zoneStation, cleaningStation]);

const modelSchema = z.strictObject({
  /**
   * An `.onnx` file (manifest: the same path with `.json`, `.yaml` or `.yml`), or a TF.js graph
   * model: its model.json or the folder holding one (manifest: `model.manifest.yaml`, `.yml` or
   * `.json` beside model.json). `manifest` names another manifest file.
   */
  path: z.string().min(1),
  manifest: z.string().min(1).optional(),
  /** Worker threads running this model, each with its own copy. */
  workers: z.number().int().min(1).max(8).default(1),
  /** onnxruntime intra-op threads per worker (TF.js on wasm runs 1 per worker in Node: add workers instead). */
  threads: z.number().int().min(1).max(16).default(1),
  /**
   * TF.js models only: `auto` (default) runs on @tensorflow/tfjs-node where it is installed, else
   * on WebAssembly; `tensorflow` or `wasm` insists on one (the load fails without it).
   */
  backend: z.enum(['auto', 'tensorflow', 'wasm']).optional(),
});

const simStation = z.strictObject({
  /** Parts per minute the simulated conveyor triggers (part stations). 0 stops the conveyor. */
  partsPerMinute: z.number().min(0).max(6000).default(120),
  /** Period of cleaning-check requests (cleaning stations); 0 = never. */
  cleanCheckEveryMs: z.number().int().min(0).max(3_600_000).default(0),
  /**
   * Product changeovers (part stations): the simulated PLC starts on the first RecipeIndex and
   * selects the next one every `everyMs`, holding the conveyor until RecipeIndexActive echoes it.
   */
  recipeCycle: z.strictObject({ indexes: z.array(z.number().int().min(0).max(32767)).min(2), everyMs: z.number().int().min(1000).max(86_400_000) }).optional(),
});

const plcSchema = z.strictObject({
  /** OPC UA endpoint of the PLC. */
  endpoint: z.string().regex(/^opc\.tcp:\/\//, 'must start with opc.tcp://'),
  /** Subscription publishing interval; bounds the latency from trigger to inspection. */
  publishingIntervalMs: z.number().int().min(5).max(1000).default(20),
  /** VisionHeartbeat period (DESIGN.md: 500 ms). */
  heartbeatMs: z.number().int().min(100).max(5000).default(500),
  /** PlcHeartbeat unchanged this long → alarm. */
  heartbeatTimeoutMs: z.number().int().min(500).max(60_000).default(2000),
  /** OPC UA security of the link to the PLC. */
  security: z
    .strictObject({
      /** `None`, `Sign` or `SignAndEncrypt`; the PLC must offer an endpoint with this mode and `policy`. */
      mode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
      /** Security policy for Sign / SignAndEncrypt (ignored with None). */
      policy: z.enum(['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).default('Basic256Sha256'),
      /**
       * PKI folder: the appliance's certificate (created on first start), trusted/ and rejected/. The
       * PLC's certificate is never trusted automatically: `lineside pki trust`. Default `<dataDir>/pki`.
       */
      pkiDir: z.string().min(1).optional(),
      /** Omit for anonymous access. Give `password`, or `passwordFile` (a file holding only the password). */
      user: z
        .strictObject({
          userName: z.string().min(1),
          password: z.string().min(1).optional(),
          passwordFile: z.string().min(1).optional(),
        })
        .refine((u) => (u.password === undefined) !== (u.passwordFile === undefined), { message: 'give exactly one of password or passwordFile' })
        .optional(),
    })
    .prefault({}),
  /** Start the built-in simulated PLC on the endpoint's port (demo, tests, benchmarks). */
  simulate: z
    .strictObject({
      /** PLC's inspection window: no matching ResultCount within it → the part is rejected (timed out). */
      windowMs: z.number().int().min(10).max(60_000).default(1000),
      stations: z.record(id, simStation).default({}),
    })
    .optional(),
});

/** Part 11 records: password rules, sessions, scheduled backups (README: Records and Part 11). */
const recordsSchema = z.strictObject({
  passwords: z
    .strictObject({
      /** Shortest password accepted when one is set or changed. */
      minLength: z.number().int().min(8).max(128).default(12),
      /** Wrong passwords in a row (login or signature) that lock the account until an admin resets it. */
      maxFailures: z.number().int().min(1).max(20).default(5),
      /** A password older than this must be changed at the next login; 0 = never expires. */
      maxAgeDays: z.number().int().min(0).max(3650).default(90),
    })
    .prefault({}),
  sessions: z
    .strictObject({
      /** A session unused this long ends; the user signs in again. */
      idleMinutes: z.number().int().min(1).max(720).default(15),
    })
    .prefault({}),
  /** Online backups of the database while the appliance runs; omit for none (`lineside backup` still works). */
  backup: z
    .strictObject({
      /** Folder for the backup files (relative to the config file). */
      dir: z.string().min(1),
      everyHours: z.number().min(0.25).max(24 * 31).default(24),
      /** Newest backups kept in `dir`; older ones made by the appliance are removed. */
      keep: z.number().int().min(1).max(1000).default(14),
    })
    .optional(),
});

const securityModeName = z.enum(['None', 'Sign', 'SignAndEncrypt']);
const securityPolicyName = z.enum(['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']);

/** lineside's own OPC UA server for SCADA/MES, following OPC 40100-1 Machine Vision (README: OPC UA server for SCADA/MES). */
const scadaSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Address to listen on; 0.0.0.0 serves every interface. */
    host: z.string().min(1).default('127.0.0.1'),
    /** TCP port (4840 is the OPC UA default; 0 lets the OS pick one). */
    port: z.number().int().min(0).max(65535).default(4841),
    /** Modes offered to clients. `None` sends everything in clear text: only on a trusted network. */
    securityModes: z.array(securityModeName).min(1).default(['Sign', 'SignAndEncrypt']),
    /** Policies offered with Sign / SignAndEncrypt. */
    securityPolicies: z.array(securityPolicyName).min(1).default(['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']),
    /** Sessions without a user name (read-only: they cannot acknowledge alarms). Off unless set. */
    allowAnonymous: z.boolean().default(false),
    /**
     * The server's PKI folder: its own certificate (created on first start), trusted/ and rejected/.
     * Client certificates are never trusted automatically: `lineside pki trust --pki-dir`. Default `<dataDir>/scada-pki`.
     */
    pkiDir: z.string().min(1).optional(),
  })
  .prefault({});

export const configSchema = z.strictObject({
  line: z.string().min(1).max(80).default('Line 1'),
  /** SQLite file, evidence images and keys live here. */
  dataDir: z.string().min(1).default('./data'),
  http: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Serve the page over HTTPS with this certificate and key (PEM files; relative to the config file). */
      tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    })
    .default({ host: '127.0.0.1', port: 8080 }),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).default({ level: 'info' }),
  plc: plcSchema,
  /** Alarm handling (README: Alarms). */
  alarms: z
    .strictObject({
      /** Longest an alarm may be shelved (hidden from the page; its PLC bit stays). */
      maxShelveMinutes: z.number().int().min(1).max(7 * 24 * 60).default(8 * 60),
    })
    .prefault({}),
  /** Evidence image retention (README: Evidence retention). Records are never deleted. */
  retention: z.strictObject({ evidence: evidenceRetentionSchema }).prefault({}),
  models: z.record(id, modelSchema),
  stations: z.array(stationSchema).min(1).max(16),
  records: recordsSchema.prefault({}),
  scada: scadaSchema,
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type StationConfig = z.output<typeof stationSchema>;
export type PartStationConfig = Extract<StationConfig, { kind: 'part' }>;
export type ZoneStationConfig = Extract<StationConfig, { kind: 'zone' }>;
export type CleaningStationConfig = Extract<StationConfig, { kind: 'cleaning' }>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type RulesConfig = StationConfig['rules'];
export type RecipeConfig = z.output<typeof recipe>;
export type PlcConfig = Config['plc'];
export type RecordsConfig = Config['records'];
export type ScadaConfig = Config['scada'];
