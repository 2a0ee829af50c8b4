/**
 * Seed ranges. The committed fixtures are the held-out demo and test set, so training images are
 * drawn from ranges that cannot overlap them (each set renders fewer than 1,000 fixtures).
 */
export const FIXTURE_SEEDS = { blister: 1_000, gowning: 2_000, hopper: 3_000 } as const;
export const TRAIN_SEEDS = { blister: 100_000, gowning: 200_000, hopper: 300_000 } as const;
