import type { Command } from 'commander';
import { addConfigOptions, type ConfigFlags } from './options.ts';

export interface SetupFlags extends ConfigFlags {
  es?: string;
  coreOnly?: boolean;
  refreshEnrich?: boolean;
}

export function registerSetup(program: Command): void {
  const command = program
    .command('setup')
    .description(
      'check the cluster, then install index templates, ingest pipelines, lifecycle policies, the DNS enrich policy and the flow rollup transform into Elasticsearch (idempotent; upgrades what changed)',
    )
    .option('--es <url>', 'Elasticsearch URL (config es_config.hosts)')
    .option('--core-only', 'install only what Elasticsearch core supports: index templates, no pipelines, lifecycle, enrich or transform')
    .option('--refresh-enrich', 're-execute the DNS enrich policy and exit (for cron when es_config.enrich_refresh_interval is 0)');
  addConfigOptions(command).action(async (flags: SetupFlags) => {
    const { setupAction } = await import('./setup-action.ts');
    await setupAction(flags);
  });
}
