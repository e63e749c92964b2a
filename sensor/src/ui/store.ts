/**
 * The store `provmon ui` serves from: the local store (embedded, the default) or Elasticsearch. Each request gets
 * a ProvmonStore; an Elasticsearch one opens its own point in time (a fresh snapshot) and closes it afterwards.
 */
import type { ProvmonStore } from '../../../kibana-plugin/server/http.ts';
import { esStatus } from '../../../kibana-plugin/common/search/es-store.ts';
import { esFlowsAnswer } from '../../../kibana-plugin/common/flows/es-flows.ts';
import { esEventsAnswer } from '../../../kibana-plugin/common/search/es-events.ts';
import type { ErrorDescriber } from '../../../kibana-plugin/server/dispatch.ts';
import { MAX_FLOW_SCAN } from '../../../kibana-plugin/server/flows-route.ts';
import { ProvmonError } from '../errors.ts';
import { createClient, describeTarget } from '../output/elasticsearch/client.ts';
import { esError, type SourceSpec } from '../graph/cli.ts';
import { DEFAULT_INDEX, ElasticsearchSource } from '../graph/es-source.ts';
import { LocalStoreSource } from '../graph/local-source.ts';

export interface UiStore {
  where: string;
  /** runs one request against a store and releases what it opened */
  use<T>(fn: (store: ProvmonStore) => Promise<T>): Promise<T>;
  describe: ErrorDescriber;
  close(): Promise<void>;
}

export function openUiStore(spec: SourceSpec, notice: (message: string) => void): UiStore {
  if (spec.kind === 'local') {
    // Opened once: it reads the index read-only beside a running sensor (see local-source.ts).
    const local = LocalStoreSource.open(spec.dir, { onNotice: notice });
    const store: ProvmonStore = {
      source: local,
      where: `the local store in ${spec.dir}`,
      descriptor: { type: 'local', events_dir: spec.dir },
      info: async () => local.info(),
      events: async (query) => local.eventsAnswer(query),
      flows: async (filter, request) => local.flowsAnswer(filter, request, MAX_FLOW_SCAN),
      overview: async (window) => local.overviewCounts(window),
    };
    return {
      where: store.where,
      use: (fn) => fn(store),
      describe: (error) => (error instanceof ProvmonError ? { status: 500, message: error.message } : undefined),
      close: async () => local.close(),
    };
  }
  const index = spec.index ?? DEFAULT_INDEX;
  const target = describeTarget(spec.es);
  const client = createClient(spec.es);
  const where = `Elasticsearch at ${target}, ${index}`;
  return {
    where,
    async use(fn) {
      const source = new ElasticsearchSource(client, { index });
      try {
        return await fn({
          source,
          where,
          descriptor: { type: 'elasticsearch', target, index },
          info: () => source.info(),
          flows: (filter, request) => esFlowsAnswer(client, filter, request, index),
          events: (query) => esEventsAnswer(client, query, index),
        });
      } finally {
        await source.close().catch(() => undefined);
      }
    },
    describe(error) {
      const described = esError(spec.es, error);
      if (!(described instanceof ProvmonError)) return undefined;
      const status = esStatus(error);
      return { status: status === 401 || status === 403 ? status : 502, message: described.message };
    },
    close: () => client.close().catch(() => undefined),
  };
}
