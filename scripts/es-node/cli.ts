/**
 * A local Elasticsearch node for development: `npm run es:start [-- options]`, `npm run es:stop`.
 * Run directly with: bun run scripts/es-node/cli.ts <start|stop|status> [options]
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { relative } from 'node:path';
import { describeError, ProvmonError } from '../../sensor/src/errors.ts';
import {
  CACHE_DIR,
  ES_ARTIFACT,
  ES_VERSION,
  isRunning,
  isStarting,
  listStates,
  prepare,
  readState,
  REPO_ROOT,
  startNode,
  stopNodeByState,
  type NodeState,
} from './node.ts';

const info = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new InvalidArgumentError('expected an integer from 1 to 65535');
  return n;
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

function collectSetting(v: string, prev: Record<string, string>): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError('expected key=value, e.g. -E thread_pool.write.queue_size=10');
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
}

function show(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') ? r : path;
}

async function health(s: NodeState): Promise<string> {
  const headers: Record<string, string> = {};
  if (s.security && s.password) headers.authorization = `Basic ${Buffer.from(`elastic:${s.password}`).toString('base64')}`;
  try {
    const res = await fetch(`${s.url}/_cluster/health`, { headers, signal: AbortSignal.timeout(3_000) });
    if (res.status !== 200) return `HTTP ${res.status}`;
    const body = (await res.json()) as { status?: string };
    return `health ${body.status ?? '?'}`;
  } catch (e) {
    return `not answering (${(e as Error).message})`;
  }
}

const program = new Command()
  .name('es-node')
  .description(
    `A local single-node Elasticsearch ${ES_VERSION} for provmon development and tests: the integ-test-zip ` +
      `(${ES_ARTIFACT}), fetched with Maven into ${CACHE_DIR}/, listening on 127.0.0.1 only. ` +
      'It has server core, security and transport; it lacks ingest processors and painless (pipelines), ' +
      'the _data_stream APIs, enrich, transforms, ILM, constant_keyword/wildcard fields and GET /.',
  )
  .showHelpAfterError('(run with --help for usage)');

program
  .command('prepare')
  .description(
    'fetch (Maven), verify and extract the distribution, find the JDK, create the provmon-es user when root; quick when already done',
  )
  .action(async () => {
    const { esHome, jdk, runAs } = await prepare((l) => info(l));
    info(`Elasticsearch ${ES_VERSION} ready in ${show(esHome)}; JDK ${jdk.major} at ${jdk.home}; nodes run as ${runAs.user}`);
  });

program
  .command('start')
  .description(
    'start a node in the background and wait until it is healthy; prints its URL as the last line on stdout',
  )
  .option('--security', 'enable security: basic auth as user "elastic" (password kept in the state file, see below)')
  .option('--name <name>', 'node name (also names its state file and directory)', 'dev')
  .option('--port <port>', 'HTTP port on 127.0.0.1 (default: a free port)', parsePort)
  .option('--password <password>', 'password for "elastic" with --security (default: random; a password given here shows in ps)')
  .option('--heap <size>', 'JVM heap, e.g. 512m or 1g', '512m')
  .addOption(new Option('-E, --setting <key=value>', 'extra elasticsearch.yml setting (repeatable)').argParser(collectSetting).default({}, 'none'))
  .option('--timeout <seconds>', 'how long to wait for the node to become healthy', parseSeconds, 120)
  .option('--show-password', 'also print the elastic password on stderr')
  .addHelpText(
    'after',
    `
The node runs detached and survives this command; stop it with \`npm run es:stop\` (or \`stop --name <name>\`).
Its state (pid, URL, and with --security the elastic password) is in .cache/es/nodes/<name>.json, mode 0600;
read the password with: jq -r .password .cache/es/nodes/<name>.json
Its config, data and logs are in \${TMPDIR:-/tmp}/provmon-es/<name>-<port>/ and are deleted on stop.
As root, Elasticsearch runs as the system user provmon-es (created on first use); its distribution is then
kept in /var/cache/provmon/es/ (PROVMON_ES_CACHE_DIR overrides), outside the clone, so a private clone works.
A JDK 17+ is needed: ES_JAVA_HOME, else /usr/lib/jvm/java-17-openjdk-amd64 (apt-get install openjdk-17-jdk-headless).`,
  )
  .action(
    async (o: {
      security?: boolean;
      name: string;
      port?: number;
      password?: string;
      heap: string;
      setting: Record<string, string>;
      timeout: number;
      showPassword?: boolean;
    }) => {
      if (o.password !== undefined && !o.security) {
        throw new ProvmonError('--password only makes sense with --security', { hint: 'add --security, or drop --password' });
      }
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const node = await startNode({
        name: o.name,
        security: o.security === true,
        heap: o.heap,
        settings: o.setting,
        startTimeoutMs: o.timeout * 1000,
        signal: abort.signal,
        log: (l) => info(l),
        ...(o.port !== undefined ? { port: o.port } : {}),
        ...(o.password !== undefined ? { password: o.password } : {}),
      });
      info(`Elasticsearch ${ES_VERSION} node "${node.name}" is running at ${node.url} (pid ${node.pid})`);
      if (node.security) {
        info(`security is on: user elastic, password in ${show(node.stateFile)} (mode 0600; jq -r .password ${show(node.stateFile)})`);
        if (o.showPassword) info(`elastic password: ${node.password}`);
      } else {
        info('security is off: no authentication');
      }
      info(`logs: ${node.dir}/logs; stop it with: npm run es:stop${node.name === 'dev' ? '' : ` -- --name ${node.name}`}`);
      process.stdout.write(`${node.url}\n`);
    },
  );

program
  .command('stop')
  .description('stop a node started with `start` (SIGTERM, then SIGKILL after 20 s) and delete its directory')
  .addOption(new Option('--name <name>', 'the node to stop').default('dev').conflicts('all'))
  .option('--all', 'stop every node that has a state file in .cache/es/nodes/ (test nodes included)')
  .option('--keep-dir', 'keep the node directory (config, data, logs) for inspection')
  .action(async (o: { name: string; all?: boolean; keepDir?: boolean }) => {
    const states = o.all ? listStates() : [readState(o.name)].filter((s): s is NodeState => s !== null);
    if (states.length === 0) {
      info(o.all ? 'no nodes to stop (no state files in .cache/es/nodes/)' : `no node named "${o.name}" is running (no ${show(`${REPO_ROOT}/.cache/es/nodes/${o.name}.json`)})`);
      return;
    }
    for (const s of states) {
      if (isStarting(s)) {
        info(`node "${s.name}" is still being started by process ${s.starterPid}; stop that process (or wait and stop the node)`);
        continue;
      }
      const was = isRunning(s);
      await stopNodeByState(s, { keepDir: o.keepDir === true, log: (l) => info(l) });
      info(was ? `stopped node "${s.name}" (${s.url})${o.keepDir ? `; kept ${s.dir}` : ''}` : `node "${s.name}" was not running; removed its stale state file`);
    }
  });

program
  .command('status')
  .description('list nodes that have state files, with their health')
  .option('--json', 'print the state as JSON (passwords left out)')
  .action(async (o: { json?: boolean }) => {
    const states = listStates();
    const rows = await Promise.all(
      states.map(async (s) => {
        const running = isRunning(s);
        const h = running
          ? await health(s)
          : isStarting(s)
            ? `starting (process ${s.starterPid})`
            : 'not running (stale state file; `stop --name` removes it)';
        return { s, running, health: h };
      }),
    );
    if (o.json) {
      const out = rows.map(({ s, running, health: h }) => {
        const { password: _password, ...rest } = s;
        return { ...rest, running, health: h };
      });
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      info('no nodes (no state files in .cache/es/nodes/)');
      return;
    }
    for (const { s, health: h } of rows) {
      process.stdout.write(
        `${s.name}\t${s.url}\tsecurity ${s.security ? 'on' : 'off'}\tpid ${s.pid}\t${h}\t${s.dir}\n`,
      );
    }
  });

try {
  await program.parseAsync(process.argv);
  process.exit(0); // the node is detached; nothing of ours should keep this process alive
} catch (e) {
  process.stderr.write(`es-node: ${describeError(e)}\n`);
  process.exit(e instanceof ProvmonError ? e.exitCode : 1);
}
