import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SYSTEM_BASE } from '../config/paths.ts';
import type { Config } from '../config/schema.ts';
import { ProvmonError } from '../errors.ts';
import type { SourceSpec } from '../graph/cli.ts';
import { openContext } from './context.ts';
import type { GraphFlags } from './graph.ts';

/**
 * Where to read: --events-dir or --es when given (not both); otherwise the configuration's storage_type decides,
 * and the local store is events_dir, else the sensor's defaults (/var/monitoring/events, else ./data/events).
 * Reading needs no write access, so the paths are not checked the way `provmon run` checks them.
 */
export function sourceSpec(flags: Pick<GraphFlags, 'eventsDir' | 'es' | 'index'>, config: Config): SourceSpec {
  if (flags.eventsDir && flags.es) {
    throw new ProvmonError('--events-dir and --es name two sources; give one', { exitCode: 2 });
  }
  if (flags.index && !(flags.es || (!flags.eventsDir && config.storage_type === 'elasticsearch'))) {
    throw new ProvmonError('--index applies to Elasticsearch (--es)', { exitCode: 2 });
  }
  if (flags.es || (!flags.eventsDir && config.storage_type === 'elasticsearch')) {
    return { kind: 'elasticsearch', es: config.es_config, ...(flags.index ? { index: flags.index } : {}) };
  }
  if (config.events_dir) return { kind: 'local', dir: resolve(config.events_dir) };
  const system = resolve(SYSTEM_BASE, 'events');
  return { kind: 'local', dir: existsSync(system) ? system : resolve('data', 'events') };
}

export async function graphAction(flags: GraphFlags): Promise<void> {
  const { loaded, log } = openContext(flags, {
    events_dir: { value: flags.eventsDir, flag: '--events-dir' },
    'es_config.hosts': { value: flags.es ? [flags.es] : undefined, flag: '--es' },
  });
  const source = sourceSpec(flags, loaded.config);
  const { runGraph } = await import('../graph/cli.ts');
  const { text, graph } = await runGraph({
    poi: flags.poi,
    direction: flags.direction,
    ...(flags.from ? { from: flags.from } : {}),
    ...(flags.to ? { to: flags.to } : {}),
    ...(flags.depth ? { depth: flags.depth } : {}),
    ...(flags.maxNodes ? { maxNodes: flags.maxNodes } : {}),
    ...(flags.maxEvents ? { maxEvents: flags.maxEvents } : {}),
    reduce: flags.reduce,
    format: flags.format,
    pretty: process.stdout.isTTY === true,
    source,
    notice: (message) => log.warn(message),
  });
  let out = text;
  if (flags.narrate) {
    const { narrate, formatNarrative } = await import('../../../kibana-plugin/common/graph/narrative.ts');
    const { narrativeEndpoint } = await import('../../../kibana-plugin/common/graph/narrative-settings.ts');
    const endpoint = narrativeEndpoint(loaded.config.narrative);
    const narrative = await narrate(graph, endpoint);
    if (narrative.source === 'summary' && endpoint) log.warn({ reason: narrative.reason }, 'the narrative endpoint gave no answer; printing the deterministic summary');
    out = formatNarrative(narrative);
  }
  await new Promise<void>((done, fail) => process.stdout.write(out, (error) => (error ? fail(error) : done())));
}
