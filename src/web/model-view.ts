import { readFileSync } from 'node:fs';
import { stationModelKeys } from '../config/recipes.js';
import type { Config } from '../config/schema.js';
import type { Records } from '../records/records.js';
import type { Model } from '../vision/model.js';
import type { ModelView } from './system.routes.js';

/** A model file as a signable record: its key and exact content hash. */
export const modelRecordId = (m: Model): string => `${m.key}@${m.manifest.sha256}`;

/** The headline of a model's validation report (`<model>.validation.json` beside it), if any. */
function readValidation(modelPath: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(modelPath.replace(/\.[^./]+$/, '') + '.validation.json', 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** What the models page shows of a loaded model: which stations use it, its approvals and its validation. */
export function modelView(m: Model, config: Config, signatures: Records['signatures']): ModelView {
  const mc = config.models[m.key]!;
  return {
    key: m.key,
    name: m.manifest.name,
    version: m.manifest.version,
    sha256: m.manifest.sha256,
    path: mc.path,
    task: `${m.manifest.task} (${m.manifest.decoder})`,
    health: m.health.value.state,
    usedBy: config.stations.filter((sc) => stationModelKeys(sc).includes(m.key)).map((sc) => sc.id),
    approvals: signatures.forRecord('model', modelRecordId(m)).filter((s) => s.meaning === 'approved'),
    validation: readValidation(mc.path),
  };
}
