import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseTimeBound as parseCommonTimeBound } from '../../../kibana-plugin/common/graph/time-bound.ts';
import { addConfigOptions, type ConfigFlags } from './options.ts';

export interface GraphFlags extends ConfigFlags {
  poi: string;
  from?: string;
  to?: string;
  direction: 'backward' | 'forward' | 'both';
  depth?: number;
  maxNodes?: number;
  maxEvents?: number;
  reduce: boolean;
  format: 'json' | 'dot';
  eventsDir?: string;
  es?: string;
  index?: string;
  narrate?: boolean;
}

/** process:<entity_id> | file:<path> | ip:<ip>[:<port>] | event:<id>: the kind is checked here, the rest by the action. */
export function checkPoi(value: string): string {
  if (!/^(process|file|ip|event):./.test(value)) {
    throw new InvalidArgumentError('expected process:<entity_id>, file:<absolute path>, ip:<ip>[:<port>] or event:<event.id>');
  }
  return value;
}

/** The common time-bound forms (kibana-plugin/common/graph/time-bound.ts), as a commander argument error. */
export function parseTimeBound(value: string, now = Date.now()): string {
  try {
    return parseCommonTimeBound(value, now);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

export function registerGraph(program: Command): void {
  const command = program
    .command('graph')
    .description(
      'trace a provenance graph (processes, files, endpoints; spawn/exec/read/write/connect/accept/delete/rename/chmod edges) backward and/or forward from a point of interest, flag attack-relevant nodes, and print it as JSON or Graphviz DOT',
    )
    .requiredOption(
      '--poi <poi>',
      'point of interest: process:<entity_id> (process.entity_id, not a pid) | file:<absolute path> | ip:<ip>[:<port>] ([v6]:port for IPv6 with a port) | event:<event.id>',
      checkPoi,
    )
    .option('--from <time>', 'start of the time window: ISO 8601, now, or a duration before now (15m, 2h, 7d); default: no bound', (v) => parseTimeBound(v))
    .option('--to <time>', 'end of the time window, same forms; default: no bound', (v) => parseTimeBound(v))
    .addOption(
      new Option('--direction <dir>', 'backward: what led to the point of interest; forward: what it led to; both').choices(['backward', 'forward', 'both']).default('backward'),
    )
    .option('--depth <n>', 'longest chain of edges from the point of interest (default 32)', positiveInt)
    .option('--max-nodes <n>', 'most nodes per direction (default 5000)', positiveInt)
    .option('--max-events <n>', 'most events read from the source (default 1000000)', positiveInt)
    .option('--no-reduce', 'print the tracked graph unreduced: one edge per observed event (no unit partitioning, noise collapse or merging)')
    .addOption(new Option('--format <fmt>', 'json (indented on a terminal, one line otherwise) or dot (Graphviz)').choices(['json', 'dot']).default('json'))
    .option('--events-dir <dir>', 'read the local store in this directory (default: config events_dir, else /var/monitoring/events, else ./data/events)')
    .option('--es <url>', 'read the logs-provmon.*-* data streams of this Elasticsearch instead; auth and TLS from es_config (es_user/es_password or api_key, ca_file)')
    .option('--index <pattern>', 'with --es: the data streams to read (default logs-provmon.*-*)')
    .option(
      '--narrate',
      'print the attack narrative instead of the graph: the engine\'s deterministic summary, and a model\'s telling of the reduced graph and its findings when narrative.url/model name an Ollama- or OpenAI-compatible endpoint (secrets in arguments masked, no file contents sent)',
    )
    .addHelpText(
      'after',
      '\nWithout --events-dir or --es, the source follows the configuration: storage_type elasticsearch reads es_config, otherwise the local store.\n' +
        'Exit codes: 0 graph printed; 1 nothing matched, empty store or unreachable source (the message says which); 2 bad usage.\n' +
        'Examples:\n' +
        '  provmon graph --events-dir /var/monitoring/events --poi ip:127.0.0.1:9999\n' +
        '  provmon graph --poi file:/tmp/x.sh --direction forward --format dot | dot -Tsvg > x.svg\n' +
        '  PROVMON_ES_CONFIG__API_KEY=<base64 id:key> provmon graph --es https://es:9200 --poi process:<entity_id> --from 2h',
    );
  addConfigOptions(command).action(async (flags: GraphFlags) => {
    const { graphAction } = await import('./graph-action.ts');
    await graphAction(flags);
  });
}
