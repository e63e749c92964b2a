/**
 * The worker thread that runs one offline analysis, so a capture read (synchronous, CPU-bound) never stalls the
 * host's HTTP server: `provmon ui`'s Bun.serve, or Kibana's event loop. A local store case is written here;
 * otherwise documents go to the parent in batches, which writes them into the case's sink (the request user's
 * Elasticsearch client cannot cross threads), and the worker blocks (Atomics.wait) while too many batches are
 * unacknowledged, so a slow sink bounds the memory in flight instead of letting it grow.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { analyzeCase } from './analyze.ts';
import { ProvmonError } from '../errors.ts';
import type { EventSink } from '../output/sink.ts';
import { BATCH_DOCS, MAX_BATCHES_IN_FLIGHT, type WorkerInput, type WorkerMessage } from './worker-protocol.ts';

const input = workerData as WorkerInput;
const port = parentPort!;
const inFlight = new Int32Array(input.credits);
const post = (m: WorkerMessage) => port.postMessage(m);

class RelaySink implements EventSink {
  readonly name = 'relay';
  private batch: EcsEvent[] = [];
  private written = 0;

  write(doc: EcsEvent): void {
    this.batch.push(doc);
    this.written += 1;
    if (this.batch.length >= BATCH_DOCS) this.send();
  }

  send(): void {
    if (this.batch.length === 0) return;
    // wait while the parent is behind; it decrements and notifies after writing each batch
    while (Atomics.load(inFlight, 0) >= MAX_BATCHES_IN_FLIGHT) Atomics.wait(inFlight, 0, Atomics.load(inFlight, 0), 1000);
    Atomics.add(inFlight, 0, 1);
    post({ type: 'docs', json: JSON.stringify(this.batch) });
    this.batch = [];
  }

  async flush(): Promise<void> {
    this.send();
  }

  async close(): Promise<void> {
    this.send();
  }

  stats(): Record<string, number> {
    return { written: this.written };
  }
}

async function openSink(): Promise<EventSink> {
  if (!input.localStore) return new RelaySink();
  // loaded only here: the Kibana bundle of this worker never writes a local store
  const { LocalSink } = await import('../output/local/local-sink.ts');
  return new LocalSink(input.localStore);
}

async function main(): Promise<void> {
  let sink: EventSink | undefined;
  try {
    sink = await openSink();
    const summary = await analyzeCase({ ...input.options, sink, onProgress: (progress) => post({ type: 'progress', progress }) });
    await sink.close();
    post({ type: 'done', summary });
  } catch (error) {
    await sink?.close().catch(() => undefined);
    post({ type: 'error', message: (error as Error)?.message ?? String(error), ...(error instanceof ProvmonError ? { exitCode: error.exitCode, ...(error.hint ? { hint: error.hint } : {}) } : {}) });
  }
}

void main();
