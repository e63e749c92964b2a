import { targetFor } from '../../../kibana-plugin/versions.ts';
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
  const store = openUiStore(source, (message) => log.warn(message));
  try {
    const assets = await loadAssets(targetFor(flags.kibana));
    const ui = startUiServer({ host: flags.host, port: flags.port, ...(token ? { token } : {}), assets, store, context: narrative ? { narrative } : {} });
    log.info({ url: ui.url, source: store.where, kibana: flags.kibana, token: token ? 'required' : 'none (loopback)', narrative: describeNarrative(narrative) }, 'provmon ui listening');
    process.stdout.write(`${ui.url}\n`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await ui.stop();
  } finally {
    await store.close();
  }
}
