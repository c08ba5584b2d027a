import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb } from '../lake/duckdb.ts';
import { pseudonym } from './pseudonym.ts';

const KEY = 'test-pseudonym-key-0123456789';
let duck: Awaited<ReturnType<typeof openDuckDb>>;
beforeAll(async () => {
  duck = await openDuckDb({ pseudonymKey: KEY });
});
afterAll(() => duck?.close());

describe('pseudonyms', () => {
  it('are the same HMAC in DuckDB SQL and in JavaScript, after normalisation', async () => {
    const rows = (
      await duck.connection.runAndReadAll(
        `SELECT pseudonym_rut('12.345.678-k') AS rut, pseudonym_email(' Ana@Example.CL ') AS email,
                pseudonym_phone('+56 9 1234 5678') AS phone, pseudonym_rut(NULL) AS none`,
      )
    ).getRowObjectsJson()[0];
    expect(rows.rut).toBe(pseudonym(KEY, 'rut', '12345678K'));
    expect(rows.email).toBe(pseudonym(KEY, 'email', 'ana@example.cl'));
    expect(rows.phone).toBe(pseudonym(KEY, 'phone', '56912345678'));
    expect(rows.none).toBeNull();
  });

  it('depend on the key and on the kind of data', () => {
    expect(pseudonym(KEY, 'rut', '1-9')).not.toBe(pseudonym('another-key-0123456789', 'rut', '1-9'));
    expect(pseudonym(KEY, 'phone', '19')).not.toBe(pseudonym(KEY, 'rut', '19'));
    expect(pseudonym('k'.repeat(100), 'email', 'a@b.c')).toMatch(/^[0-9a-f]{64}$/);
  });
});
