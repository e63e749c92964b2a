/**
 * The same documents in both stores, for tests that compare Elasticsearch's answer with the local store's: bulk
 * indexed (each into the index `indexOf` names, refreshed) and written through LocalStore into a fresh directory.
 */
import type { Client } from '@elastic/elasticsearch';
import type { EcsEvent } from '../../kibana-plugin/common/ecs.ts';
import { LocalStoreSource } from '../../sensor/src/graph/local-source.ts';
import { tempDir } from '../../sensor/src/graph/testdata/tmp.ts';
import { LocalStore } from '../../sensor/src/output/local/local-store.ts';

export async function bulkIndex(client: Client, docs: readonly EcsEvent[], indexOf: (doc: EcsEvent) => string, refresh: string): Promise<void> {
  const body: unknown[] = [];
  for (const d of docs) body.push({ create: { _index: indexOf(d), _id: d.event.id } }, d);
  for (let i = 0; i < body.length; i += 4000) {
    const r = await client.bulk({ operations: body.slice(i, i + 4000) });
    if (r.errors) throw new Error(JSON.stringify(r.items.find((it) => Object.values(it)[0]?.error)));
  }
  await client.indices.refresh({ index: refresh });
}

/** A local store holding `docs` (in a temp dir removed by removeTempDirs), open for queries. */
export function localStoreOf(docs: readonly EcsEvent[], prefix: string): LocalStoreSource {
  const dir = tempDir(prefix);
  const writer = new LocalStore({ dir });
  for (const d of docs) writer.write(d);
  writer.close();
  return LocalStoreSource.open(dir);
}
