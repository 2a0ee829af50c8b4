import { describe, expect, it } from 'vitest';
import { resolveTagMap } from './tags.js';

describe('resolveTagMap', () => {
  it('defaults to the simulated PLC layout, ns=1;s=<station>.<Tag>', () => {
    expect(resolveTagMap('blister', { tags: {} }).ResultCount).toBe('ns=1;s=blister.ResultCount');
  });

  it('fills a pattern with {tag} and {station}, for PLCs that quote every name', () => {
    const map = resolveTagMap('vial', { tagPrefix: 'ns=3;s="VisionDB_{station}"."{tag}"', tags: { Score: 'ns=3;s="Extra"."VialScore"' } });
    expect(map.Result).toBe('ns=3;s="VisionDB_vial"."Result"');
    expect(map.TriggerCount).toBe('ns=3;s="VisionDB_vial"."TriggerCount"');
    // A tag mapped by name wins over the pattern.
    expect(map.Score).toBe('ns=3;s="Extra"."VialScore"');
  });
});
