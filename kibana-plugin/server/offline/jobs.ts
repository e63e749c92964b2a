/**
 * Analysis jobs of uploaded cases, in memory: a case is reserved when its upload starts (so a busy host refuses the
 * upload before receiving gigabytes), analysed one at a time in arrival order, and its outcome kept for polling.
 * Everything is bounded: active cases (receiving, queued or running) by `maxActive`, finished ones by `maxKept`
 * (the oldest are forgotten; their data stays readable through `?case=`).
 */
import type { AnalysisSummary, AnalyzeProgress } from '../../../sensor/src/analyze/analyze.ts';
import { RouteError } from '../http.ts';
import { newCaseId } from './case-id.ts';
import type { Upload } from './upload.ts';

export type CasePhase = 'receiving' | 'queued' | 'audit' | 'pcap' | 'done' | 'failed';

export interface CaseStatus {
  id: string;
  phase: CasePhase;
  created: string;
  started?: string;
  finished?: string;
  /** where the case's documents go ("the local store in …", "Elasticsearch, logs-provmon.*-case_…") */
  where?: string;
  files?: { capture?: { name: string; bytes: number; kind: string }; audit: { name: string; bytes: number }[] };
  progress?: AnalyzeProgress;
  summary?: AnalysisSummary;
  error?: { status: number; message: string };
}

export interface JobLimits {
  maxActive: number;
  maxKept: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = { maxActive: 2, maxKept: 50 };

export type Analysis = (onProgress: (p: AnalyzeProgress) => void, signal: AbortSignal) => Promise<{ summary: AnalysisSummary; where: string }>;

const ACTIVE: readonly CasePhase[] = ['receiving', 'queued', 'audit', 'pcap'];

export class CaseJobs {
  private readonly jobs = new Map<string, CaseStatus>();
  private chain: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(readonly limits: JobLimits = DEFAULT_JOB_LIMITS) {}

  active(): number {
    let n = 0;
    for (const j of this.jobs.values()) if (ACTIVE.includes(j.phase)) n += 1;
    return n;
  }

  /** A new case for an upload that is about to be received; 429 when the host is busy. */
  reserve(): string {
    if (this.active() >= this.limits.maxActive) {
      throw new RouteError(429, `${this.limits.maxActive} analyses are already received or running (the limit): try again when one has finished`);
    }
    const id = newCaseId();
    this.jobs.set(id, { id, phase: 'receiving', created: new Date().toISOString() });
    return id;
  }

  /** The upload failed: the case never existed. */
  release(id: string): void {
    this.jobs.delete(id);
  }

  /** Queues the analysis of a received upload; the upload's files are removed when it ends, whatever the outcome. */
  run(id: string, upload: Upload, analysis: Analysis, describe: (error: unknown) => { status: number; message: string }): CaseStatus {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no reserved case ${id}`);
    job.phase = 'queued';
    job.files = {
      ...(upload.capture ? { capture: { name: upload.capture.name, bytes: upload.capture.bytes, kind: upload.capture.kind } } : {}),
      audit: upload.audit.map((a) => ({ name: a.name, bytes: a.bytes })),
    };
    this.chain = this.chain.then(async () => {
      job.started = new Date().toISOString();
      job.phase = upload.audit.length > 0 ? 'audit' : 'pcap';
      try {
        if (this.stopping.signal.aborted) throw new RouteError(503, 'the server is shutting down: the analysis did not start');
        const { summary, where } = await analysis((p) => {
          job.phase = p.phase;
          job.progress = p;
        }, this.stopping.signal);
        job.summary = summary;
        job.where = where;
        job.phase = 'done';
      } catch (error) {
        job.error = describe(error);
        job.phase = 'failed';
      } finally {
        upload.remove();
        job.finished = new Date().toISOString();
        this.forgetOld();
      }
    });
    return job;
  }

  /** Stops the running analysis and the queued ones (the host is shutting down); resolves when their files are gone. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.chain;
  }

  status(id: string): CaseStatus | undefined {
    return this.jobs.get(id);
  }

  private forgetOld(): void {
    const finished = [...this.jobs.values()].filter((j) => !ACTIVE.includes(j.phase));
    for (const j of finished.slice(0, Math.max(0, finished.length - this.limits.maxKept))) this.jobs.delete(j.id);
  }
}
