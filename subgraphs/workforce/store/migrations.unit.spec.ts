import { describe, expect, it } from 'vitest';
import { checksum } from '../../../platform/postgres/migrate.ts';
import { workforceMigrations } from './migrations.ts';

/**
 * Released migrations are frozen: databases out there recorded these checksums, and an
 * edited migration would stop them at startup. Add a new migration instead; append its
 * checksum here when it is released.
 */
const FROZEN: Record<number, string> = {
  1: 'e35eb83b3b6b8e7b',
  2: '8dabbd7b9d32641c',
  3: 'b062b3b7998e00dd',
  4: '6def055ba6f5d1ac',
};

describe('workforce migrations', () => {
  it('are numbered 1..n without gaps', () => {
    expect(workforceMigrations.map((m) => m.version)).toEqual(workforceMigrations.map((_, i) => i + 1));
  });

  it('match their frozen checksums', () => {
    for (const m of workforceMigrations) expect([m.version, checksum(m)]).toEqual([m.version, FROZEN[m.version]]);
  });
});
