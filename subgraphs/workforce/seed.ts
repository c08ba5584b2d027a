import * as input from '../../platform/domain/input.ts';
import type { Logger } from '../../platform/logger.ts';
import type { CommandContext, WorkforceCommands } from './commands.ts';
import { checkDigit } from '../../platform/domain/rut.ts';

/**
 * Sample data for a first start, written through the same commands as the API, so the
 * sample has its events and audit trail like real data. Deterministic (seeded PRNG).
 */

export interface SeedSize {
  companies: number;
  projectsPerCompany: number[];
  profiles: number;
}

export const DEFAULT_SEED: SeedSize = { companies: 3, projectsPerCompany: [4, 3, 3], profiles: 200 };

export interface SeedResult {
  companyIds: string[];
  projectIds: string[];
  profileIds: string[];
}

const FIRST = ['Ana', 'Luis', 'María', 'José', 'Camila', 'Pedro', 'Valentina', 'Diego', 'Francisca', 'Matías', 'Javiera', 'Tomás', 'Constanza', 'Felipe', 'Catalina', 'Benjamín'];
const LAST = ['González', 'Muñoz', 'Rojas', 'Díaz', 'Pérez', 'Soto', 'Contreras', 'Silva', 'Martínez', 'Sepúlveda', 'Morales', 'Rodríguez', 'López', 'Fuentes', 'Hernández', 'Torres'];
const COMPANIES = [
  { name: 'Minera Atacama SpA', taxRut: 76_086_428 },
  { name: 'Constructora Andes Ltda', taxRut: 77_123_456 },
  { name: 'Servicios Pacífico SA', taxRut: 78_654_321 },
  { name: 'Transportes Sur SpA', taxRut: 79_111_222 },
];
const SITES = ['Antofagasta', 'Calama', 'Copiapó', 'La Serena', 'Rancagua', 'Concepción', 'Iquique', 'Santiago', 'Valparaíso', 'Temuco'];
const LICENSES = ['Clase D (maquinaria)', 'Clase A4', 'Trabajo en altura', 'Espacios confinados', 'Primeros auxilios', 'Rigger'];

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const withDigit = (body: number) => `${body}-${checkDigit(String(body))}`;

/** Writes the sample data; `today` anchors licence expiries (some within 30 days). */
export async function seedWorkforce(commands: WorkforceCommands, log: Logger, size: SeedSize = DEFAULT_SEED, today = input.todayUtc()): Promise<SeedResult> {
  const ctx: CommandContext = { actor: { id: 'seed@angelis.dev', kind: 'system' }, correlationId: 'seed', today };
  const rand = prng(20261127);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];

  const offerings = [
    await commands.createOffering(ctx, { code: 'CORE', name: 'Angelis Core', description: 'Workforce and compliance tracking' }),
    await commands.createOffering(ctx, { code: 'SAFETY', name: 'Angelis Safety', description: 'Safety forms and anomaly reporting' }),
  ];

  const companyIds: string[] = [];
  const projectIds: string[] = [];
  const assignmentsByCompany: string[][] = [];
  for (let c = 0; c < size.companies; c++) {
    const spec = COMPANIES[c % COMPANIES.length];
    const companyId = await commands.registerCompany(ctx, { name: spec.name, taxRut: withDigit(spec.taxRut + Math.floor(c / COMPANIES.length)) });
    companyIds.push(companyId);
    // Enough seats for everyone we hire, split over two subscriptions.
    await commands.subscribe(ctx, { companyId, offeringId: offerings[0], seats: Math.ceil(size.profiles / size.companies), startsOn: input.addDays(today, -365) });
    await commands.subscribe(ctx, { companyId, offeringId: offerings[1], seats: 10, startsOn: input.addDays(today, -30), endsOn: input.addDays(today, 335) });
    const assignments: string[] = [];
    for (let p = 0; p < (size.projectsPerCompany[c] ?? 1); p++) {
      const startsOn = input.addDays(today, -200 + p * 20);
      const projectId = await commands.createProject(ctx, {
        companyId,
        name: `Faena ${SITES[(c * 4 + p) % SITES.length]} ${p + 1}`,
        faenaCode: `F${c + 1}${String(p + 1).padStart(2, '0')}`,
        location: SITES[(c * 4 + p) % SITES.length],
        startsOn,
        endsOn: input.addDays(today, 365 + p * 30),
      });
      projectIds.push(projectId);
      for (const role of ['Operación', 'Mantención']) {
        assignments.push(await commands.createAssignment(ctx, { projectId, name: `${role} turno A`, startsOn }));
      }
    }
    assignmentsByCompany.push(assignments);
  }

  const profileIds: string[] = [];
  const firstOfCompany = new Map<string, string>();
  for (let i = 0; i < size.profiles; i++) {
    const body = 10_000_000 + Math.floor(rand() * 15_000_000);
    const companyIndex = i % size.companies;
    const companyId = companyIds[companyIndex];
    let profileId: string;
    try {
      // Recorded by the company that hires them, as its manager would: its managers see it.
      profileId = await commands.createProfile({ ...ctx, companyId }, {
        rut: withDigit(body),
        firstName: pick(FIRST),
        lastName: `${pick(LAST)} ${pick(LAST)}`,
        email: `worker${i + 1}@example.cl`,
        phone: `+56 9 ${String(10_000_000 + i).slice(0, 4)} ${String(1000 + i).slice(-4)}`,
        birthDate: input.addDays('1970-01-01', Math.floor(rand() * 12_000)),
      });
    } catch {
      i--; // a RUT collision in the sample: draw another
      continue;
    }
    profileIds.push(profileId);
    await commands.hireProfile(ctx, { companyId, profileId, position: pick(['Operador', 'Mecánico', 'Supervisor', 'Prevencionista']) });
    // The company's first hire supervises the next ones: a shallow reporting tree.
    const head = firstOfCompany.get(companyId);
    if (head) await commands.setSupervisor(ctx, { companyId, profileId, supervisorId: head });
    else firstOfCompany.set(companyId, profileId);
    const assignments = assignmentsByCompany[companyIndex];
    if (assignments.length) await commands.assignProfile(ctx, { assignmentId: assignments[i % assignments.length], profileId });
    // Every fourth licence expires within 30 days, so the expiry views have something to show.
    const licenses = 1 + (i % 2);
    for (let l = 0; l < licenses; l++) {
      const expiresIn = (i + l) % 4 === 0 ? 1 + Math.floor(rand() * 29) : 60 + Math.floor(rand() * 700);
      await commands.grantLicense(ctx, {
        profileId,
        type: pick(LICENSES),
        number: `L-${String(i * 10 + l).padStart(6, '0')}`,
        issuedOn: input.addDays(today, -365),
        expiresOn: input.addDays(today, expiresIn),
      });
    }
  }
  log.info({ companies: companyIds.length, projects: projectIds.length, profiles: profileIds.length }, 'sample data seeded');
  return { companyIds, projectIds, profileIds };
}
