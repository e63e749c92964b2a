/**
 * Runs one offline analysis in a worker thread (worker.ts) and writes what it finds into the case's sink
 * on this thread: the sink may hold the request user's Elasticsearch client, which cannot cross threads.
 */
import { Worker } from 'node:worker_threads';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { AnalysisSummary, AnalyzeOptions } from './analyze.ts';
import { ProvmonError } from '../errors.ts';
import type { EventSink } from '../output/sink.ts';
import type { LocalCaseStore, WorkerInput, WorkerMessage } from './worker-protocol.ts';

export type CaseWriter = { sink: EventSink } | { localStore: LocalCaseStore };

export function analyzeInWorker(script: string | URL, options: Omit<AnalyzeOptions, 'sink'>, output: CaseWriter, signal?: AbortSignal): Promise<AnalysisSummary> {
  const { onProgress, ...rest } = options;
  const sink = 'sink' in output ? output.sink : undefined;
  const credits = new SharedArrayBuffer(4);
  const inFlight = new Int32Array(credits);
  const workerData: WorkerInput = { options: rest, credits, ...('localStore' in output ? { localStore: output.localStore } : {}) };
  return new Promise((resolve, reject) => {
    const worker = new Worker(typeof script === 'string' && script.startsWith('file:') ? new URL(script) : script, { workerData });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'docs') {
        try {
          for (const doc of JSON.parse(m.json) as EcsEvent[]) sink!.write(doc);
        } catch (error) {
          settle(() => reject(error));
        }
        Atomics.sub(inFlight, 0, 1);
        Atomics.notify(inFlight, 0);
      } else if (m.type === 'progress') onProgress?.(m.progress);
      else if (m.type === 'done') settle(() => resolve(m.summary));
      else settle(() => reject(m.exitCode === undefined ? new Error(m.message) : new ProvmonError(m.message, { exitCode: m.exitCode, ...(m.hint ? { hint: m.hint } : {}) })));
    });
    worker.on('error', (error) => settle(() => reject(error)));
    signal?.addEventListener('abort', () => settle(() => reject(new Error('the analysis was stopped: the server is shutting down'))), { once: true });
    worker.on('exit', (code) => settle(() => reject(new Error(`the analysis worker stopped (exit code ${code}) before it answered`))));
  });
}
