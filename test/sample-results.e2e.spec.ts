import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestMysqlDatabase, type TestMysqlDatabase } from '../platform/testing/mysql.ts';
import { npmStart, npmStartSetup, stopRun, untilRunning, type NpmStartRun, type NpmStartSetup } from './support/npm-start.ts';

/**
 * `npm start` with the sources as a newcomer has them: SaferApp unconfigured serves SAMPLE
 * results (said so in the log) for the seeded people and faenas; Fit2000 pointed at a
 * reachable MariaDB (ANGELIS_FIT2000_DB_HOST) reads the real one, not the sample.
 */
let setup: NpmStartSetup;
let run: NpmStartRun;
let mysql: TestMysqlDatabase;

beforeAll(async () => {
  mysql = await createTestMysqlDatabase([new URL('../schema/sources/fit2000.sql', import.meta.url)]);
  setup = await npmStartSetup({
    ANGELIS_FIT2000_DB_HOST: mysql.host,
    ANGELIS_FIT2000_DB_PORT: String(mysql.port),
    ANGELIS_FIT2000_DB_NAME: mysql.database,
    ANGELIS_FIT2000_DB_USER: mysql.user,
    ...(mysql.password ? { ANGELIS_FIT2000_DB_PASSWORD: mysql.password } : {}),
    ANGELIS_PROJECTOR_ENABLED: 'false',
  });
  run = npmStart(setup.env);
  await untilRunning(run, 150_000);
}, 180_000);

afterAll(async () => {
  if (run) await stopRun(run);
  setup?.remove();
  await mysql?.drop();
});

async function query(q: string) {
  const res = await fetch(setup.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'newcomer@example.com' },
    body: JSON.stringify({ query: q }),
  });
  return (await res.json()) as any;
}

describe('npm start with the sources unconfigured or local', () => {
  it('serves SaferApp sample results for the seeded RUTs and faena codes, labelled as sample data in the log', async () => {
    const res = await query(`{ profiles(first: 10) { nodes { rut assignments { assignment { project { faenaCode } } } saferAppResults(first: 50) { nodes { rut faenaCode provider project { name } } } } } }`);
    expect(res.errors).toBeUndefined();
    const nodes = res.data.profiles.nodes as any[];
    expect(nodes.length).toBe(10);
    let results = 0;
    for (const p of nodes) {
      const faenas = new Set(p.assignments.map((a: any) => a.assignment.project.faenaCode));
      for (const r of p.saferAppResults.nodes) {
        results++;
        expect(r.rut).toBe(p.rut);
        expect(faenas.has(r.faenaCode)).toBe(true);
        expect(r.provider).toBe('SAFERAPP');
        expect(r.project.name).toMatch(/^Faena /);
      }
    }
    expect(results).toBeGreaterThan(10);
    expect(run.output()).toMatch(/SaferApp is not configured: serving SAMPLE DATA/);
    expect(run.output()).not.toMatch(/Fit2000 is not configured/);
  });

  it('reads Fit2000 from the MariaDB it was pointed at', async () => {
    const first = await query(`{ profiles(first: 1) { nodes { id rut fit2000Results { nodes { sourceId } } } } }`);
    const person = first.data.profiles.nodes[0];
    expect(person.fit2000Results.nodes).toEqual([]);
    await mysql.admin.query('INSERT INTO usuario_faena (user_id, rut, faena) VALUES (1, ?, ?)', [person.rut.replace('-', ''), 'F101']);
    await mysql.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado, puntaje) VALUES (77, 1, '2026-11-30 12:00:00', 'APROBADO', 99)`);
    const again = await query(`{ profiles(first: 1) { nodes { fit2000Results { nodes { sourceId score faenaCode project { faenaCode } } } } } }`);
    expect(again.data.profiles.nodes[0].fit2000Results.nodes).toEqual([{ sourceId: '77', score: 99, faenaCode: 'F101', project: { faenaCode: 'F101' } }]);
  });
});
