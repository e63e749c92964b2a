import { ProvmonError } from '../errors.ts';
import { openContext } from './context.ts';
import type { SetupFlags } from './setup.ts';

export async function setupAction(flags: SetupFlags): Promise<void> {
  if (flags.kibana !== undefined) return kibanaSetupAction(flags, flags.kibana);
  if (flags.space !== undefined || flags.kibanaUser !== undefined || flags.caFile !== undefined) {
    throw new ProvmonError('--space, --kibana-user and --ca-file go with --kibana', { exitCode: 2 });
  }
  if (flags.coreOnly && flags.refreshEnrich) {
    throw new ProvmonError('--core-only and --refresh-enrich exclude each other: the core profile has no enrich policy', { exitCode: 2 });
  }
  const { loaded } = openContext(flags, { 'es_config.hosts': { value: flags.es ? [flags.es] : undefined, flag: '--es' } });
  const { runSetup } = await import('../setup/setup.ts');
  await runSetup(loaded.config.es_config, {
    coreOnly: flags.coreOnly ?? false,
    refreshEnrich: flags.refreshEnrich ?? false,
    print: (line) => process.stdout.write(`${line}\n`),
  });
}

async function kibanaSetupAction(flags: SetupFlags, url: string): Promise<void> {
  if (flags.coreOnly || flags.refreshEnrich || flags.es) throw new ProvmonError('--kibana sets up Kibana only: run provmon setup --es … separately for Elasticsearch', { exitCode: 2 });
  const { setupKibana } = await import('../kibana/kibana-setup.ts');
  const apiKey = process.env.PROVMON_KIBANA_API_KEY || undefined;
  await setupKibana(
    {
      url,
      ...(flags.space ? { space: flags.space } : {}),
      ...(flags.kibanaUser ? { username: flags.kibanaUser, password: process.env.PROVMON_KIBANA_PASSWORD ?? '' } : {}),
      ...(apiKey && !flags.kibanaUser ? { apiKey } : {}),
      ...(flags.caFile ? { caFile: flags.caFile } : {}),
    },
    { print: (line) => process.stdout.write(`${line}\n`) },
  );
}
