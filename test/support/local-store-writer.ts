/**
 * A second process that writes a local store, for tests that need a real other process: `bun local-store-writer.ts
 * <dir> <events per batch>` writes file events in a loop (as fast as it can, flushing lines and index rows every
 * batch) until it is killed, printing `ready` on stdout once the store is open.
 */
import { LocalStore } from '../../sensor/src/output/local/local-store.ts';
import { makeEvent } from './events.ts';

const [dir, batchArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: local-store-writer.ts <dir> [events per batch]');
const batch = Number(batchArg ?? 200);
const store = new LocalStore({ dir, commitEvery: batch, rotateBytes: 256 * 1024, maxFiles: 1000 });
process.stdout.write('ready\n');
const T0 = Date.parse('2026-11-24T10:00:00Z');
for (let i = 0; ; i++) {
  store.write(makeEvent('file', 'write', T0 + i, { process: { pid: 100 + (i % 7), entity_id: `W${i % 7}` }, file: { path: `/var/tmp/w${i}` } }));
  if (i % batch === 0) {
    store.flushFiles();
    await Bun.sleep(0);
  }
}
