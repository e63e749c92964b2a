import type { Command } from 'commander';
import { addConfigOptions, type ConfigFlags } from './options.ts';

export interface SetupFlags extends ConfigFlags {
  es?: string;
  coreOnly?: boolean;
  refreshEnrich?: boolean;
  kibana?: string;
  space?: string;
  kibanaUser?: string;
  caFile?: string;
}

export function registerSetup(program: Command): void {
  const command = program
    .command('setup')
    .description(
      'check the cluster, then install index templates, ingest pipelines, lifecycle policies, the DNS enrich policy and the flow rollup transform into Elasticsearch (idempotent; upgrades what changed)',
    )
    .option('--es <url>', 'Elasticsearch URL (config es_config.hosts)')
    .option('--core-only', 'install only what Elasticsearch core supports: index templates, no pipelines, lifecycle, enrich or transform')
    .option('--refresh-enrich', 're-execute the DNS enrich policy and exit (for cron when es_config.enrich_refresh_interval is 0)')
    .option('--kibana <url>', 'instead: import the saved objects (overwrite) and create or update the alert rules in this Kibana')
    .option('--space <id>', 'with --kibana: the Kibana space (default: the default space)')
    .option('--kibana-user <name>', 'with --kibana: basic auth as this user, password from PROVMON_KIBANA_PASSWORD (or an API key from PROVMON_KIBANA_API_KEY)')
    .option('--ca-file <file>', "with --kibana: PEM file of the CA that signed Kibana's certificate");
  addConfigOptions(command).action(async (flags: SetupFlags) => {
    const { setupAction } = await import('./setup-action.ts');
    await setupAction(flags);
  });
}
