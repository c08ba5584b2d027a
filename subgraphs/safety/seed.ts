import type { Logger } from '../../platform/logger.ts';
import type { SeedPeers } from '../../platform/service/definition.ts';
import type { CommandContext, SafetyCommands } from './commands.ts';
import type { TemplateField } from '../../schema/events/safety.ts';

const DAILY_CHECK: TemplateField[] = [
  { key: 'ppe_worn', label: 'Personal protective equipment worn', type: 'BOOLEAN', required: true, options: [] },
  { key: 'shift', label: 'Shift', type: 'CHOICE', required: true, options: ['DAY', 'NIGHT'] },
  { key: 'hazards', label: 'Hazards seen', type: 'MULTI_CHOICE', required: false, options: ['DUST', 'NOISE', 'HEIGHT', 'MACHINERY'] },
  { key: 'notes', label: 'Notes', type: 'TEXT', required: false, options: [] },
];

type Projects = {
  projects: { nodes: { id: string; name: string; company: { id: string }; assignments: { nodes: { profiles: { profile: { id: string } }[] }[] } }[] };
};

/**
 * Sample data for development, through Safety's own commands: per company a mandatory
 * daily check (published twice: version 2 adds a field) and an optional incident form; per
 * project a form from an assigned worker and anomalies in each status. Projects and who is
 * assigned are read from Workforce through its API.
 */
export async function seedSafety(commands: SafetyCommands<unknown>, peers: SeedPeers, log: Logger): Promise<void> {
  const ctx: CommandContext = { actor: { id: 'seed', kind: 'system' }, correlationId: 'seed-safety' };
  const { projects } = await peers.query<Projects>(
    'workforce',
    `{ projects(first: 100) { nodes { id name company { id } assignments(first: 20) { nodes { profiles { profile { id } } } } } } }`,
  );
  const templates = new Map<string, string>();
  for (const companyId of new Set(projects.nodes.map((p) => p.company.id))) {
    const templateId = await commands.publishTemplate(ctx, { templateId: null, companyId, name: 'Daily pre-task check', mandatory: true, fields: DAILY_CHECK.slice(0, 3) });
    await commands.publishTemplate(ctx, { templateId, companyId, name: 'Daily pre-task check', mandatory: true, fields: DAILY_CHECK });
    await commands.publishTemplate(ctx, {
      templateId: null,
      companyId,
      name: 'Incident witness statement',
      fields: [
        { key: 'what', label: 'What happened', type: 'TEXT', required: true },
        { key: 'on', label: 'Date', type: 'DATE', required: true },
      ],
    });
    templates.set(companyId, templateId);
  }
  const tplDocs = new Map((await commands.store.get('template', [...templates.values()])).map((t) => [t.id, t]));
  let forms = 0;
  let anomalies = 0;
  for (const project of projects.nodes) {
    const tpl = tplDocs.get(templates.get(project.company.id)!)!;
    const workers = [...new Set(project.assignments.nodes.flatMap((a) => a.profiles.map((p) => p.profile.id)))];
    const target = { id: project.id, companyId: project.company.id };
    for (const profileId of workers.slice(0, 2)) {
      await commands.submitForm({ ...ctx, actor: { id: profileId, kind: 'system' } }, {
        tpl,
        templateVersion: 2,
        project: target,
        profileId,
        answers: [
          { key: 'ppe_worn', value: true },
          { key: 'shift', value: 'DAY' },
          { key: 'hazards', value: ['DUST'] },
        ],
      });
      forms++;
    }
    const reporter = workers[0] ?? null;
    const open = await commands.reportAnomaly(ctx, { project: target, reporterProfileId: reporter, severity: 'HIGH', description: `Loose guard rail on level 2 at ${project.name}` });
    const handled = await commands.reportAnomaly(ctx, { project: target, reporterProfileId: null, severity: 'LOW', description: 'Spilled oil near the workshop entrance' });
    await commands.changeAnomalyStatus(ctx, { anomalyId: handled, projectId: project.id, to: 'IN_PROGRESS', note: 'Absorbent laid; cleaning crew called' });
    anomalies += 2;
    void open;
  }
  log.info({ templates: templates.size * 2, forms, anomalies }, 'safety sample data seeded');
}
