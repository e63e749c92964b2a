import { InvalidArgumentError, Option, type Command } from 'commander';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { addConfigOptions, type ConfigFlags } from './options.ts';

export interface UiFlags extends ConfigFlags {
  eventsDir?: string;
  es?: string;
  index?: string;
  host: string;
  port: number;
  kibana: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535 (0: any free port)');
  return n;
}

export function registerUi(program: Command): void {
  const newest = KIBANA_TARGETS[KIBANA_TARGETS.length - 1]!.kibanaVersion;
  const command = program
    .command('ui')
    .description(
      'serve the provmon Kibana application (Overview, Provenance, Events) without Kibana: the plugin\'s own bundle and route handlers, over the local store or Elasticsearch; prints the URL',
    )
    .option('--events-dir <dir>', 'serve the local store in this directory (default: config events_dir, else /var/monitoring/events, else ./data/events)')
    .option('--es <url>', 'serve the logs-provmon.*-* data streams of this Elasticsearch instead; auth and TLS from es_config')
    .option('--index <pattern>', 'with --es: the data streams to read (default logs-provmon.*-*)')
    .option('--host <address>', 'address to listen on; anything but loopback requires PROVMON_UI_TOKEN', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', port, 5602)
    .addOption(new Option('--kibana <version>', "run the bundle under this Kibana line's shared deps (React, EUI)").choices(KIBANA_TARGETS.map((t) => t.kibanaVersion)).default(newest))
    .addHelpText(
      'after',
      '\nThe page is http://<host>:<port>/app/provmon; the API is /api/provmon/{graph,events,entity/<kind>/<id>,overview,flows,narrative} (README: "Route API").\n' +
        'The provenance page\'s Narrative button asks the endpoint of narrative.url/api/model/timeout_s (config or PROVMON_NARRATIVE__*; the key in\n' +
        'PROVMON_NARRATIVE__API_KEY stays on this server) and always shows the deterministic summary.\n' +
        'Off loopback, set PROVMON_UI_TOKEN (16+ characters; never passed as a flag, so it stays out of ps): open the page once with ?token=<token>,\n' +
        'or send Authorization: Bearer <token>. Stop with Ctrl-C.\n' +
        'Examples:\n' +
        '  provmon ui --events-dir /var/monitoring/events\n' +
        '  PROVMON_ES_CONFIG__API_KEY=<base64 id:key> provmon ui --es https://es:9200 --port 5602',
    );
  addConfigOptions(command).action(async (flags: UiFlags) => {
    const { uiAction } = await import('./ui-action.ts');
    await uiAction(flags);
  });
}
