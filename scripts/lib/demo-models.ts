/**
 * The three demo models: what each one is, how it is fitted and what its manifest says.
 * scripts/make-models.ts runs them (one in a worker thread, so two fit at once on two cores).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest, ManifestInput } from '../../src/vision/manifest.js';
import type { InputSpec } from '../../src/vision/preprocess.js';
import { buildCleaningGraph, fitCleaning } from './fit-classifier.js';
import { fitDetector, type DetectorFitOptions } from './fit-detector.js';
import { writeModel } from './model-files.js';
import { BLISTER_CLASSES } from './render-blister.js';
import { PPE_CLASSES } from './render-gowning.js';
import { CLEANING_CLASSES } from './render-hopper.js';
import { TRAIN_SEEDS } from './seeds.js';
import { blisterTrainSet, gowningTrainSet, hopperTrainSet } from './train-data.js';
import { POOL, buildDetectorGraph, type DetectorSpec } from './window-detector.js';

/** A fixture image and what each demo model must find in it, checked at every load (canary). */
const CANARIES: Readonly<Record<string, ManifestInput['canary']>> = {
  'blister-detector': {
    image: '../fixtures/blister/blister-0003.jpg',
    expect: [
      { label: 'empty_pocket', min: 1, max: 1, minScore: 0.5 },
      { label: 'broken_tablet', min: 1, max: 1, minScore: 0.5 },
      { label: 'tablet', min: 8, max: 8 },
    ],
  },
  'ppe-detector': {
    image: '../fixtures/gowning/gowning-0010.jpg',
    expect: [
      { label: 'head_no_mask', min: 1, max: 1, minScore: 0.5 },
      { label: 'hand_bare', min: 1, max: 1, minScore: 0.5 },
      { label: 'head_mask', min: 2, max: 2 },
      { label: 'hand_glove', min: 5, max: 5 },
    ],
  },
  'cleaning-classifier': {
    image: '../fixtures/hopper/hopper-0000.jpg',
    expect: { label: 'residue', minScore: 0.9 },
  },
};

export const modelsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');

const LICENCE = 'Proprietary demo model of the lineside project; synthetic training data; not for production use.';
const VERSION = '1.0.0';

const letterbox320: InputSpec = {
  name: 'images',
  width: 320,
  height: 320,
  layout: 'NCHW',
  channels: 'RGB',
  scale: '0-1',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  resize: 'letterbox',
  letterboxAlign: 'center',
  padValue: 114,
};

/** Shared fitting settings; each detector overrides what its measurements called for. */
const detectorFit: DetectorFitOptions = {
  epochs: 8,
  learningRate: 0.01,
  l2: 1e-4,
  batch: 128,
  seed: 7,
  positiveShare: 0.05,
  randomPerImage: 40,
  offCentrePerObject: 3,
  nearPerImage: 40,
  mineRounds: 3,
  mineEpochs: 4,
  mineThreshold: 0.3,
  minePerImage: 20,
};

interface DetectorJob {
  readonly spec: DetectorSpec;
  readonly trainImages: number;
  readonly fit: DetectorFitOptions;
  readonly train: (count: number) => ReturnType<typeof blisterTrainSet>;
  readonly intendedUse: string;
  readonly seed: number;
}

/**
 * Every class the blister detector tells apart: pocket contents and the wrong product's colour.
 * Chips, foreign particles and foil damage are no classes: with them, linear window templates at
 * this resolution fired on good cards (README: product defects).
 */
export const BLISTER_DETECTOR_CLASSES = [...BLISTER_CLASSES, 'wrong_colour'] as const;

const blister: DetectorJob = {
  spec: {
    name: 'blister-detector',
    version: VERSION,
    classes: BLISTER_DETECTOR_CLASSES,
    // A tablet missing a wedge is neither a whole tablet nor an empty pocket, which one linear
    // template cannot express; one template per direction of the missing wedge (45° bins) can, and
    // one per other product's colour. All four share anchors, so at a pocket the best class wins.
    groups: [{ classIds: [0, 1, 2, 3], kernel: 14, components: [1, 1, 8, 4] }],
    size: 320,
    stride: 4,
    normaliseWindow: 15,
    description: 'Sliding-window blister detector: tablet, empty pocket, broken tablet, wrong-colour tablet',
    licence: LICENCE,
  },
  trainImages: 300,
  // Five mining rounds: with three, good cards still drew stray broken_tablet scores near 0.55.
  fit: { ...detectorFit, mineRounds: 5 },
  train: (n) => blisterTrainSet(n, letterbox320, BLISTER_DETECTOR_CLASSES),
  intendedUse: 'Demo only: finds tablets, empty pockets, broken tablets and wrong-colour tablets in the synthetic 2×5 blister cards of fixtures/blister and scripts/lib/render-blister.ts.',
  seed: TRAIN_SEEDS.blister,
};

const ppe: DetectorJob = {
  spec: {
    name: 'ppe-detector',
    version: VERSION,
    classes: PPE_CLASSES,
    // Heads and hands differ in size, so each pair of classes gets its own window and anchor set.
    // A hand reaching across the gown, often beside or over the other hand, looks unlike one hanging
    // against the wall: each hand class has one template per reach (the drawn object's variant).
    groups: [
      { classIds: [0, 1], kernel: 14 },
      { classIds: [2, 3], kernel: 10, components: [2, 2] },
    ],
    size: 320,
    stride: 4,
    normaliseWindow: 15,
    description: 'Sliding-window gowning-room PPE detector: masked / unmasked heads, gloved / bare hands',
    licence: LICENCE,
  },
  trainImages: 600,
  // 600 images, not 300: crossed hands are rare in a frame, and 300 held too few of them to learn
  // (bare-hand recall 93.8 %). With 900, 255 false anchors survived mining and the canary failed.
  // Skin on a masked face's forehead resembles a bare hand: a smaller positive share keeps it quiet.
  fit: { ...detectorFit, positiveShare: 0.03, mineRounds: 4 },
  train: (n) => gowningTrainSet(n, letterbox320, PPE_CLASSES),
  intendedUse: 'Demo only: flags missing masks and gloves on the synthetic gowning-room frames of fixtures/gowning.',
  seed: TRAIN_SEEDS.gowning,
};

async function makeDetector(job: DetectorJob): Promise<Manifest> {
  const started = Date.now();
  const images = await job.train(job.trainImages);
  const options = { ...job.fit, seed: job.fit.seed + job.seed };
  const fitted = await fitDetector(job.spec, images, options);
  const onnx = buildDetectorGraph(job.spec, fitted.params);
  console.log(`${job.spec.name}: fitted in ${((Date.now() - started) / 1000).toFixed(1)} s`, JSON.stringify(fitted.metrics));
  return writeModel(modelsDir, onnx, {
    name: job.spec.name,
    canary: CANARIES[job.spec.name],
    version: VERSION,
    task: 'detect',
    decoder: 'yolov8',
    input: letterbox320,
    outputs: ['output0'],
    classes: [...job.spec.classes],
    thresholds: { score: 0.5, iou: 0.45 },
    softmaxApplied: true,
    intendedUse: job.intendedUse,
    licence: LICENCE,
    provenance: {
      script: 'scripts/make-models.ts',
      method: 'one-vs-rest logistic regression (Adam) per class or per appearance component over 2×2-pooled, locally normalised window pixels, with hard-negative mining; exported as strided Conv + Sigmoid (+ ReduceMax over components)',
      seed: job.seed,
      trainSeeds: `${job.seed}..${job.seed + job.trainImages - 1}`,
      trainSamples: job.trainImages,
      windows: job.spec.groups.map((g) => ({ classes: g.classIds.map((i) => job.spec.classes[i]), size: g.kernel * POOL, components: g.components ?? g.classIds.map(() => 1), stride: job.spec.stride })),
      fit: options,
      ...fitted.metrics,
    },
  });
}

async function makeCleaning(): Promise<Manifest> {
  const started = Date.now();
  const input: InputSpec = { ...letterbox320, width: 96, height: 96, resize: 'stretch' };
  const trainSamples = 120;
  const samples = await hopperTrainSet(trainSamples, input);
  const fitted = await fitCleaning(samples, input, TRAIN_SEEDS.hopper);
  console.log(`cleaning-classifier: fitted in ${((Date.now() - started) / 1000).toFixed(1)} s`, JSON.stringify(fitted.metrics));
  return writeModel(modelsDir, buildCleaningGraph(fitted.params, true), {
    name: 'cleaning-classifier',
    canary: CANARIES['cleaning-classifier'],
    version: VERSION,
    task: 'classify',
    decoder: 'softmax',
    input,
    outputs: ['probabilities'],
    classes: [...CLEANING_CLASSES],
    thresholds: { score: 0.5, iou: 0.45 },
    softmaxApplied: true,
    intendedUse: 'Demo only: tells clean from residue on the synthetic brushed-steel hopper views of fixtures/hopper.',
    licence: LICENCE,
    provenance: {
      script: 'scripts/make-models.ts',
      method: 'difference from a fitted mean clean image, high-pass, 8×8 pooled, peak and mean per channel inside the tray; multinomial logistic regression',
      seed: TRAIN_SEEDS.hopper,
      trainSeeds: `${TRAIN_SEEDS.hopper}..${TRAIN_SEEDS.hopper + trainSamples - 1}`,
      trainSamples,
      ...fitted.metrics,
    },
  });
}

export const demoModels = {
  'blister-detector': () => makeDetector(blister),
  'ppe-detector': () => makeDetector(ppe),
  'cleaning-classifier': makeCleaning,
} as const;
export type DemoModel = keyof typeof demoModels;
