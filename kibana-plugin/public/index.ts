/**
 * The browser plugin: `plugin()` returns setup/start synchronously (Kibana's contract); setup registers the one
 * application `provmon` at /app/provmon. Nothing runs when this module is evaluated: Kibana may load external
 * bundles on pages that never mount the app.
 */
import { mountApp } from './app.ts';
import type { CoreSetup } from './kibana-types.ts';

export const APP_ID = 'provmon';

export class ProvmonPublicPlugin {
  setup(core: CoreSetup): Record<string, never> {
    core.application.register({
      id: APP_ID,
      title: 'provmon',
      order: 8100,
      euiIconType: 'graphApp',
      // DEFAULT_APP_CATEGORIES.kibana (Analytics), copied: it is not among the shared deps.
      category: { id: 'kibana', label: 'Analytics', euiIconType: 'logoKibana', order: 1000 },
      async mount(params) {
        const [coreStart] = await core.getStartServices();
        return mountApp(coreStart, params);
      },
    });
    return {};
  }

  start(): Record<string, never> {
    return {};
  }

  stop(): void {}
}

export function plugin(): ProvmonPublicPlugin {
  return new ProvmonPublicPlugin();
}
