import { InvalidArgumentError, Option, type Command } from 'commander';
import { addConfigOptions, type ConfigFlags } from './options.ts';

/** process:<entity_id> | file:<path> | ip:<ip>[:<port>] — checked here so a typo fails before any query runs. */
export function parsePoi(value: string): { kind: 'process' | 'file' | 'ip'; value: string } {
  const match = /^(process|file|ip):(.+)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected process:<entity_id>, file:<path> or ip:<ip>[:<port>]');
  return { kind: match[1] as 'process' | 'file' | 'ip', value: match[2]! };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

export function registerGraph(program: Command): void {
  const command = program
    .command('graph')
    .description('build a provenance graph backward and/or forward from a point of interest')
    .requiredOption('--poi <poi>', 'point of interest: process:<entity_id> | file:<path> | ip:<ip>[:<port>]', parsePoi)
    .option('--from <time>', 'start of the time window (ISO 8601)')
    .option('--to <time>', 'end of the time window (ISO 8601)')
    .addOption(new Option('--direction <dir>', 'which way to track').choices(['backward', 'forward', 'both']).default('backward'))
    .option('--depth <n>', 'maximum hops from the point of interest', positiveInt)
    .option('--no-reduce', 'keep every edge (no merging or noise collapse)')
    .addOption(new Option('--format <fmt>', 'output format').choices(['json', 'dot']).default('json'))
    .option('--events-dir <dir>', 'read the local store in this directory')
    .option('--es <url>', 'read from Elasticsearch instead of the local store');
  addConfigOptions(command).action(async (flags: ConfigFlags & { eventsDir?: string; es?: string }) => {
    const { notLandedYet, openContext } = await import('./context.ts');
    openContext(flags, {
      events_dir: { value: flags.eventsDir, flag: '--events-dir' },
      'es_config.hosts': { value: flags.es ? [flags.es] : undefined, flag: '--es' },
    });
    notLandedYet('provmon graph', 'issue #6 (provenance graph engine)');
  });
}
