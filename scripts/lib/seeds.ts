/**
 * Seed ranges. The committed fixtures are the held-out demo and test set, so training images are
 * drawn from ranges that cannot overlap them (each set renders fewer than 1,000 fixtures).
 */
export const FIXTURE_SEEDS = { blister: 1_000, gowning: 2_000, hopper: 3_000 } as const;
export const TRAIN_SEEDS = { blister: 100_000, gowning: 200_000, hopper: 300_000 } as const;
/**
 * Anomaly (teach from good parts) sets: teaching images and the held-out validation set come from
 * disjoint ranges, so `lineside validate` never scores an image the model was taught from.
 * `fresh` is a second held-out range, for checking a model on cards no one looked at while
 * developing it (README: teaching a defect model).
 */
export const ANOMALY_SEEDS = { teach: 400_000, heldOut: 500_000, fresh: 600_000 } as const;
/**
 * Held-out sets that `npm run build:models` renders to validate every demo model (scripts/validate-models.ts).
 * The blister set uses the anomaly model's held-out range, so both blister models are judged on the
 * same cards; none of these ranges meets a training range above.
 */
export const VALIDATION_SEEDS = { blister: ANOMALY_SEEDS.heldOut, gowning: 700_000, hopper: 800_000 } as const;
