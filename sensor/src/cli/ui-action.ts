import { relative, resolve } from 'node:path';
import { targetFor } from '../../../kibana-plugin/versions.ts';
import { resolvePaths } from '../config/paths.ts';
import { ProvmonError } from '../errors.ts';
import { openContext } from './context.ts';
import { sourceSpec } from './graph-action.ts';
import type { Config } from '../config/schema.ts';
import type { SourceSpec } from '../graph/cli.ts';
import type { Logger } from '../log/logger.ts';
import type { UiCases } from '../ui/cases.ts';
import type { UiFlags } from './ui.ts';

/**
 * The Offline analysis cases directory: --cases-dir (its problems stop the command), else <output_dir>/cases, which
 * may be unusable for this user (a system output_dir): then the console still starts, and the upload says why not.
 */
async function openCases(flags: UiFlags, config: Config, source: SourceSpec, log: Pick<Logger, 'warn'>): Promise<UiCases | string> {
  const { openUiCases } = await import('../ui/cases.ts');
  const bytes = flags.maxUploadMb * 1024 * 1024;
  const open = (casesDir: string) => {
    if (source.kind === 'local' && !relative(source.dir, casesDir).startsWith('..')) {
      throw new ProvmonError(`--cases-dir ${casesDir} is inside the events directory ${source.dir}, which a running sensor owns`, { hint: 'choose a directory outside it', exitCode: 2 });
    }
    return openUiCases(source, { casesDir, limits: { maxFileBytes: bytes, maxTotalBytes: bytes }, notice: (message) => log.warn(message) });
  };
  if (flags.casesDir) {
    const dir = resolve(flags.casesDir);
    try {
      return open(dir);
    } catch (error) {
      if (error instanceof ProvmonError) throw error;
      throw new ProvmonError(`--cases-dir ${dir} cannot be used: ${(error as Error).message}`, { exitCode: 2, cause: error });
    }
  }
  try {
    return open(resolve(resolvePaths(config).outputDir, 'cases'));
  } catch (error) {
    const reason = `no usable cases directory (${(error as Error).message}); start provmon ui with --cases-dir <dir>`;
    log.warn({ reason }, 'the Offline analysis page is off');
    return reason;
  }
}

export async function uiAction(flags: UiFlags): Promise<void> {
  const { loaded, log } = openContext(flags, {
    events_dir: { value: flags.eventsDir, flag: '--events-dir' },
    'es_config.hosts': { value: flags.es ? [flags.es] : undefined, flag: '--es' },
  });
  const token = process.env.PROVMON_UI_TOKEN || undefined;
  const { checkBind, startUiServer } = await import('../ui/server.ts');
  // Refuse a bad bind before opening anything.
  checkBind(flags.host, token);
  const source = sourceSpec(flags, loaded.config);
  const { openUiStore } = await import('../ui/store.ts');
  const { loadAssets } = await import('../ui/assets.ts');
  const { narrativeEndpoint, describeNarrative } = await import('../../../kibana-plugin/common/graph/narrative-settings.ts');
  const narrative = narrativeEndpoint(loaded.config.narrative);
  const store = openUiStore(source, (message) => log.warn(message));
  const cases = await openCases(flags, loaded.config, source, log);
  try {
    const assets = await loadAssets(targetFor(flags.kibana));
    const ui = startUiServer({ host: flags.host, port: flags.port, ...(token ? { token } : {}), assets, store, ...(typeof cases === 'string' ? { casesOff: cases } : { cases }), context: narrative ? { narrative } : {} });
    log.info({ url: ui.url, source: store.where, cases_dir: typeof cases === 'string' ? `off: ${cases}` : cases.dir, kibana: flags.kibana, token: token ? 'required' : 'none (loopback)', narrative: describeNarrative(narrative) }, 'provmon ui listening');
    process.stdout.write(`${ui.url}\n`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await ui.stop();
  } finally {
    if (typeof cases !== 'string') await cases.close();
    await store.close();
  }
}
