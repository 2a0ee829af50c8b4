import type { StationConfig } from '../config/schema.js';
import { assertNever } from '../domain/assert.js';
import { CleaningStation } from './cleaning.station.js';
import { PartStation } from './part.station.js';
import type { Station, StationDeps } from './station.js';
import { ZoneStation } from './zone.station.js';

/** One factory, one case per station kind. */
export function createStation(config: StationConfig, deps: StationDeps): Station {
  switch (config.kind) {
    case 'part':
      return new PartStation(config, deps);
    case 'zone':
      return new ZoneStation(config, deps);
    case 'cleaning':
      return new CleaningStation(config, deps);
    default:
      return assertNever(config, 'station kind');
  }
}
