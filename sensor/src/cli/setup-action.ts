import { ProvmonError } from '../errors.ts';
import { openContext } from './context.ts';
import type { SetupFlags } from './setup.ts';

export async function setupAction(flags: SetupFlags): Promise<void> {
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
