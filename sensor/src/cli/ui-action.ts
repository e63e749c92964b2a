import { relative, resolve } from 'node:path';
import { targetFor } from '../../../kibana-plugin/versions.ts';
import { resolvePaths } from '../config/paths.ts';
import { ProvmonError } from '../errors.ts';
import { openContext } from './context.ts';
import { sourceSpec } from './graph-action.ts';
import type { UiFlags } from './ui.ts';

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
  const casesDir = resolve(flags.casesDir ?? resolve(resolvePaths(loaded.config).outputDir, 'cases'));
  if (source.kind === 'local' && !relative(source.dir, casesDir).startsWith('..')) {
    throw new ProvmonError(`--cases-dir ${casesDir} is inside the events directory ${source.dir}, which a running sensor owns`, { hint: 'choose a directory outside it', exitCode: 2 });
  }
  const store = openUiStore(source, (message) => log.warn(message));
  const { openUiCases } = await import('../ui/cases.ts');
  const bytes = flags.maxUploadMb * 1024 * 1024;
  const cases = openUiCases(source, { casesDir, limits: { maxFileBytes: bytes, maxTotalBytes: bytes }, notice: (message) => log.warn(message) });
  try {
    const assets = await loadAssets(targetFor(flags.kibana));
    const ui = startUiServer({ host: flags.host, port: flags.port, ...(token ? { token } : {}), assets, store, cases, context: narrative ? { narrative } : {} });
    log.info({ url: ui.url, source: store.where, cases_dir: casesDir, kibana: flags.kibana, token: token ? 'required' : 'none (loopback)', narrative: describeNarrative(narrative) }, 'provmon ui listening');
    process.stdout.write(`${ui.url}\n`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await ui.stop();
  } finally {
    await cases.close();
    await store.close();
  }
}
