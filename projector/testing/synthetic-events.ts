import type { Queryable } from '../../platform/postgres/pool.ts';

/**
 * Inserts `count` Workforce-shaped events straight into an `events` table with SQL
 * (generate_series), in transactions of `perTransaction`, for tests and benchmarks that
 * need many events fast. Every tenth event starts a new group: a profile created,
 * updated, licensed, hired, supervised, ... with data shaped like its contract. Dates
 * advance five seconds per event from 2025-01-01, so a million events span ~58 days.
 */
export async function insertSyntheticEvents(db: Queryable, count: number, perTransaction = 100_000): Promise<void> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM events');
  let done = Number(rows[0].n);
  const end = done + count;
  while (done < end) {
    const to = Math.min(end, done + perTransaction);
    await db.query(SYNTHETIC_SQL, [done + 1, to]);
    done = to;
  }
}

const SYNTHETIC_SQL = `
INSERT INTO events (stream_id, stream_version, event_id, event_type, event_version, data, metadata, occurred_at)
SELECT 'synthetic-' || g, k + 1, md5('event' || i)::uuid, t.type, 1, t.data,
       jsonb_build_object('actor', jsonb_build_object('id', 'bench', 'kind', 'system'), 'companyId', md5('c' || g)::uuid),
       timestamptz '2025-01-01 00:00:00+00' + i * interval '5 seconds'
FROM generate_series($1::bigint, $2::bigint) AS i,
     LATERAL (SELECT i / 10 AS g, i % 10 AS k) AS gk,
     LATERAL (SELECT md5('p' || g)::uuid AS p, md5('c' || g)::uuid AS c, md5('l' || g)::uuid AS l,
                     md5('j' || g)::uuid AS j, md5('a' || g)::uuid AS a) AS ids,
     LATERAL (SELECT CASE k
       WHEN 0 THEN 'ProfileCreated' WHEN 1 THEN 'ProfileUpdated' WHEN 2 THEN 'LicenseGranted'
       WHEN 3 THEN 'LicenseRenewed' WHEN 4 THEN 'CompanyRegistered' WHEN 5 THEN 'ProfileHired'
       WHEN 6 THEN CASE WHEN g % 5 = 0 THEN 'EmploymentEnded' ELSE 'SupervisorSet' END
       WHEN 7 THEN 'ProjectCreated' WHEN 8 THEN 'AssignmentCreated'
       ELSE CASE WHEN g % 7 = 0 THEN 'ProfileUnassigned' ELSE 'ProfileAssigned' END END AS type) AS ty,
     LATERAL (SELECT ty.type, CASE ty.type
       WHEN 'ProfileCreated' THEN jsonb_build_object('profileId', p, 'rut', (10000000 + g) || '-' || (g % 10),
         'firstName', 'Nombre ' || g, 'lastName', 'Apellido "' || g || '"', 'email', 'persona' || g || '@example.cl',
         'phone', CASE WHEN g % 3 = 0 THEN NULL ELSE '+56 9 ' || (10000000 + g) END, 'birthDate', '1990-01-01', 'createdBy', 'bench')
       WHEN 'ProfileUpdated' THEN jsonb_build_object('profileId', p, 'firstName', 'Nombre ' || g, 'lastName', 'Cambiado ' || g,
         'email', 'nuevo' || g || '@example.cl', 'phone', NULL, 'birthDate', NULL)
       WHEN 'LicenseGranted' THEN jsonb_build_object('licenseId', l, 'profileId', p, 'type', 'CLASE_B', 'number', 'L-' || g,
         'issuedOn', '2024-06-01', 'expiresOn', '2026-06-01')
       WHEN 'LicenseRenewed' THEN jsonb_build_object('licenseId', l, 'profileId', p, 'expiresOn', '2028-06-01')
       WHEN 'CompanyRegistered' THEN jsonb_build_object('companyId', c, 'name', 'Empresa ' || g, 'taxRut', (76000000 + g) || '-K', 'status', 'ACTIVE')
       WHEN 'ProfileHired' THEN jsonb_build_object('companyId', c, 'profileId', p, 'position', 'Operario', 'startedOn', '2025-01-01')
       WHEN 'SupervisorSet' THEN jsonb_build_object('companyId', c, 'profileId', p, 'supervisorId', md5('p' || (g - 1))::uuid)
       WHEN 'EmploymentEnded' THEN jsonb_build_object('companyId', c, 'profileId', p, 'endedOn', '2025-06-30')
       WHEN 'ProjectCreated' THEN jsonb_build_object('projectId', j, 'companyId', c, 'name', 'Faena ' || g, 'faenaCode', 'F' || g,
         'location', 'Antofagasta', 'startsOn', '2025-01-01', 'endsOn', NULL)
       WHEN 'AssignmentCreated' THEN jsonb_build_object('assignmentId', a, 'projectId', j, 'companyId', c, 'name', 'Rol ' || g,
         'startsOn', '2025-01-01', 'endsOn', NULL)
       ELSE jsonb_build_object('assignmentId', a, 'projectId', j, 'companyId', c, 'profileId', p) END AS data) AS t`;
