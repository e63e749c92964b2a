/** Messages between an offline analysis worker (worker.ts) and the host that runs it (in-worker.ts). */
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { AnalysisSummary, AnalyzeOptions, AnalyzeProgress } from './analyze.ts';

export const BATCH_DOCS = 512;
/** batches posted but not yet written by the parent, at most: ~4,000 documents (a few MiB of JSON) in flight */
export const MAX_BATCHES_IN_FLIGHT = 8;

/** A local store the worker writes itself (`provmon ui`'s cases): no documents cross threads. */
export interface LocalCaseStore {
  dir: string;
  rotateBytes: number;
  maxFiles: number;
}

export interface WorkerInput {
  options: Omit<AnalyzeOptions, 'sink' | 'onProgress'>;
  /** absent: documents are relayed to the parent's sink */
  localStore?: LocalCaseStore;
  /** one Int32: batches in flight, shared with the parent */
  credits: SharedArrayBuffer;
}

export type WorkerMessage =
  /** a batch of documents as one JSON array: a string crosses threads faster than a structured clone of objects */
  | { type: 'docs'; json: string }
  | { type: 'progress'; progress: AnalyzeProgress }
  | { type: 'done'; summary: AnalysisSummary }
  | { type: 'error'; message: string; exitCode?: number; hint?: string };
