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
  casesDir?: string;
  maxUploadMb: number;
}

function megabytes(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024 * 1024) throw new InvalidArgumentError('expected a whole number of MiB from 1 to 1048576');
  return n;
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
    .option('--cases-dir <dir>', 'where the Offline analysis page puts uploaded cases: one local store per case, and the uploads while they are received (default: <output_dir>/cases)')
    .option('--max-upload-mb <n>', 'largest Offline analysis upload (all its files together), in MiB', megabytes, 4096)
    .addOption(new Option('--kibana <version>', "run the bundle under this Kibana line's shared deps (React, EUI)").choices(KIBANA_TARGETS.map((t) => t.kibanaVersion)).default(newest))
    .addHelpText(
      'after',
      '\nThe page is http://<host>:<port>/app/provmon; the API is /api/provmon/{graph,events,entity/<kind>/<id>,overview,flows,narrative} (README: "Route API").\n' +
        'The provenance page\'s Narrative button asks the endpoint of narrative.url/api/model/timeout_s (config or PROVMON_NARRATIVE__*; the key in\n' +
        'PROVMON_NARRATIVE__API_KEY stays on this server) and always shows the deterministic summary.\n' +
        'The Offline analysis page uploads a capture and audit logs (POST /api/provmon/offline/cases, with a kbn-xsrf header) and analyses them\n' +
        'into a new case: a local store under --cases-dir, or the namespace case_<id> with --es; every read route opens a case with ?case=<id>.\n' +
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
