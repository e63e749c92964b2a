/**
 * The "Offline analysis" API, the same on both hosts (Kibana's router in plugin.ts, `provmon ui`'s Bun.serve):
 *   POST /api/provmon/offline/cases       multipart upload → 202 {id, status_url, phase, files}; the analysis runs as a job
 *   GET  /api/provmon/offline/cases/{id}  the job: phase, progress, then the summary (or the error)
 * A host supplies where a case's documents go (`openCase`); case-id.ts decides the names.
 */
import type { Readable } from 'node:stream';
import { OFFLINE_CASES_PATH } from '../../common/case-param.ts';
import { analyzeCase, type AnalysisSummary, type AnalyzeOptions, type AnalyzeProgress } from '../../../sensor/src/analyze/analyze.ts';
import { analyzeInWorker, type CaseWriter } from '../../../sensor/src/analyze/in-worker.ts';
import { ProvmonError } from '../../../sensor/src/errors.ts';
import { describeFailure, type ErrorDescriber, type RouteAnswer } from '../dispatch.ts';
import { RouteError } from '../http.ts';
import { caseNamespace, CASE_ID_FORM, isCaseId } from './case-id.ts';
import type { CaseJobs } from './jobs.ts';
import { receiveUpload, type Upload, type UploadLimits } from './upload.ts';

export { OFFLINE_CASES_PATH };
export const OFFLINE_CASE_PATH = '/api/provmon/offline/cases/{id}';

/** Where a case's documents go: a sink on the host thread, or a local store the analysis writes itself. */
export type CaseOutput = CaseWriter & {
  /** "the local store in /x", "Elasticsearch …, logs-provmon.*-case_<id>" */
  where: string;
  /** after the sink is closed: throws when documents were not delivered (an Elasticsearch that refused them) */
  check?(): void;
};

export interface OfflineHost {
  jobs: CaseJobs;
  limits: UploadLimits;
  /** parent of the private upload directories */
  tmpRoot: string;
  /** `workDir`: the upload's private directory, removed when the job ends (room for a spool) */
  openCase(id: string, workDir: string): Promise<CaseOutput>;
  /** the analysis worker's module (sensor/src/analyze/worker.ts or its bundle): the analysis runs off the HTTP thread */
  worker?: string | URL;
  describe?: ErrorDescriber;
}

function errorAnswer(error: unknown, describe?: ErrorDescriber): RouteAnswer {
  const f = describeFailure(error, describe);
  const name = f.status === 413 ? 'Payload Too Large' : f.status === 415 ? 'Unsupported Media Type' : f.status === 429 ? 'Too Many Requests' : f.status >= 500 ? 'Internal Server Error' : 'Bad Request';
  return { status: f.status, body: { statusCode: f.status, error: name, message: f.message } };
}

/** An analysis error that names the upload's temporary paths names the files as the user sent them instead. */
function inUserTerms(error: unknown, upload: Upload): unknown {
  if (!(error instanceof Error)) return error;
  let message = error.message;
  for (const f of [...(upload.capture ? [upload.capture] : []), ...upload.audit]) message = message.split(f.path).join(f.name);
  if (error instanceof ProvmonError) return new RouteError(error.exitCode === 2 ? 400 : 500, error.hint ? `${message} (${error.hint})` : message);
  if (message === error.message) return error;
  const renamed = new Error(message);
  return Object.assign(renamed, { meta: (error as { meta?: unknown }).meta, statusCode: (error as { statusCode?: unknown }).statusCode });
}

/**
 * In the host's worker when it has one; in-process otherwise (the same analysis, on the calling thread). A local
 * store case is written by the worker (this module, bundled into Kibana's server, never loads the local store).
 */
async function runAnalysis(host: OfflineHost, options: Omit<AnalyzeOptions, 'sink'>, output: CaseOutput, signal: AbortSignal): Promise<AnalysisSummary> {
  if (host.worker) return analyzeInWorker(host.worker, options, output, signal);
  if (!('sink' in output)) throw new Error('a local store case is written by the analysis worker: give the host its worker');
  return analyzeCase({ ...options, sink: output.sink });
}

async function analyzeUpload(host: OfflineHost, id: string, upload: Upload, onProgress: (p: AnalyzeProgress) => void, signal: AbortSignal): Promise<{ summary: AnalysisSummary; where: string }> {
  const output = await host.openCase(id, upload.dir);
  let summary: AnalysisSummary;
  try {
    summary = await runAnalysis(
      host,
      {
        ...(upload.capture ? { pcap: { path: upload.capture.path } } : {}),
        audit: upload.audit.map((a) => ({ path: a.path })),
        namespace: caseNamespace(id),
        toleranceMs: upload.toleranceMs,
        ...(upload.hostName ? { hostName: upload.hostName } : {}),
        onProgress,
      },
      output,
      signal,
    );
  } catch (error) {
    if (signal.aborted) throw new RouteError(503, (error as Error).message);
    throw inUserTerms(error, upload);
  } finally {
    if ('sink' in output) await output.sink.close().catch(() => undefined);
  }
  output.check?.();
  const nameOf = new Map([...(upload.capture ? [upload.capture] : []), ...upload.audit].map((f) => [f.path, f.name]));
  if (summary.pcap) summary.pcap.file = nameOf.get(summary.pcap.file) ?? summary.pcap.file;
  if (summary.audit) summary.audit.files = summary.audit.files.map((f) => nameOf.get(f) ?? f);
  return { summary, where: output.where };
}

/** POST: reserve a case (429 when busy), receive the files (4xx naming the file and the limit), queue the job. */
export async function acceptUpload(host: OfflineHost, body: Readable, headers: Record<string, string | string[] | undefined>): Promise<RouteAnswer> {
  // once answered, the rest of a refused body may be cut off by the host: that is expected, not an error
  body.on('error', () => undefined);
  let id: string;
  try {
    id = host.jobs.reserve();
  } catch (error) {
    body.resume();
    return errorAnswer(error);
  }
  let upload: Upload;
  try {
    upload = await receiveUpload(body, { headers, limits: host.limits, tmpRoot: host.tmpRoot });
  } catch (error) {
    host.jobs.release(id);
    return errorAnswer(error);
  }
  const job = host.jobs.run(id, upload, (onProgress, signal) => analyzeUpload(host, id, upload, onProgress, signal), (error) => describeFailure(error, host.describe));
  return { status: 202, body: { id, status_url: `${OFFLINE_CASES_PATH}/${id}`, phase: job.phase, files: job.files } };
}

/** GET: the job of a case as it stands. */
export function caseStatus(host: OfflineHost, id: string): RouteAnswer {
  if (!isCaseId(id)) return errorAnswer(new RouteError(400, `[request params]: id: expected a case id (${CASE_ID_FORM})`));
  const job = host.jobs.status(id);
  if (!job) {
    return errorAnswer(
      new RouteError(404, `no analysis job ${id} on this server (jobs are kept in memory, the last ${host.jobs.limits.maxKept}); a case that finished is still readable with ?case=${id}`),
    );
  }
  return { status: 200, body: job };
}
