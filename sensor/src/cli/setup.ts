import type { Command } from 'commander';
import { addConfigOptions, type ConfigFlags } from './options.ts';

export function registerSetup(program: Command): void {
  const command = program
    .command('setup')
    .description('install index templates, ingest pipelines and lifecycle policies into Elasticsearch')
    .option('--es <url>', 'Elasticsearch URL (config es_config.hosts)')
    .option('--core-only', 'install only what Elasticsearch core supports: templates, no pipelines or lifecycle');
  addConfigOptions(command).action(async (flags: ConfigFlags & { es?: string }) => {
    const { notLandedYet, openContext } = await import('./context.ts');
    openContext(flags, { 'es_config.hosts': { value: flags.es ? [flags.es] : undefined, flag: '--es' } });
    notLandedYet('provmon setup', 'issue #5 (Elasticsearch assets and bulk output)');
  });
}
