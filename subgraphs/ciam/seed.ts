import type { Db } from '../../platform/postgres/pool.ts';
import type { Authentication } from './authentication.ts';
import type { CiamCommands } from './commands.ts';
import { readModel } from './store/read-model.ts';

/** Development sample accounts: an admin, a manager per company, worker logins for profiles. */
export interface CiamSeedInput {
  companies: { id: string; name: string }[];
  profiles: { id: string; rut: string; companyId: string; name?: string }[];
}

export interface SeededLogin {
  role: 'ADMIN' | 'MANAGER' | 'WORKER';
  label: string;
  email?: string;
  password?: string;
  rut?: string;
}

export const SEED_PASSWORD = 'angelis-dev-password';

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 30) || 'company';

/**
 * Seeds the sample accounts, once: accounts that exist already are left alone. Every
 * internal user gets SEED_PASSWORD (development only). Returns who can log in.
 *
 * Worker logins are enabled as the system, by command, not through enableWorkerLogin
 * (which asks Workforce as its caller, and the seed has none): the profiles, RUTs and
 * companies come from Workforce's API just before, so they are what the mutation would
 * check them against.
 */
export async function seedCiam(service: { db: Db; auth: Authentication; commands: CiamCommands }, input: CiamSeedInput): Promise<SeededLogin[]> {
  const ctx = { actor: { id: 'seed', kind: 'system' as const }, correlationId: 'seed-ciam' };
  const logins: SeededLogin[] = [];
  const internal = async (email: string, name: string, role: 'ADMIN' | 'MANAGER', companyId: string | null, label: string) => {
    if (!(await readModel.userByEmail(service.db.pool, email))) {
      const invite = await service.auth.invite(ctx, { email, name, role, companyId });
      await service.auth.setPassword('seed-ciam', invite.inviteToken, SEED_PASSWORD);
    }
    logins.push({ role, label, email, password: SEED_PASSWORD });
  };
  await internal('admin@angelis.dev', 'Angelis Admin', 'ADMIN', null, 'Angelis admin');
  for (const c of input.companies) await internal(`manager@${slug(c.name)}.dev`, `Manager ${c.name}`, 'MANAGER', c.id, `Manager of ${c.name}`);
  for (const p of input.profiles) {
    await service.commands.enableWorkerLogin(ctx, { profileId: p.id, rut: p.rut, companyId: p.companyId });
    logins.push({ role: 'WORKER', label: `Worker ${p.name ?? p.id}`, rut: p.rut });
  }
  return logins;
}

/** How to log in as each seeded account, as lines to print (development only). */
export function loginInstructions(logins: SeededLogin[], gatewayUrl: string): string[] {
  const lines = [
    `Log in through the gateway (${gatewayUrl}): the one-time code appears in the ciam log ("one-time login code").`,
  ];
  for (const l of logins) {
    lines.push(
      l.role === 'WORKER'
        ? `  ${l.label.padEnd(34)} requestWorkerCode(rut: "${l.rut}") then verifyLoginCode`
        : `  ${l.label.padEnd(34)} login(email: "${l.email}", password: "${l.password}") then verifyLoginCode`,
    );
  }
  return lines;
}
