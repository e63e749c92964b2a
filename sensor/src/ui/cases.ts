/**
 * Uploaded cases of `provmon ui`: where their documents go and how a read route opens one. Over the local store,
 * each case is a new local store directory under the cases directory (never the live events directory, which a
 * running sensor owns); over Elasticsearch, the namespace case_<id> (case-id.ts names both).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RouteError, type ProvmonStore } from '../../../kibana-plugin/server/http.ts';
import { caseDir, caseIndex } from '../../../kibana-plugin/server/offline/case-id.ts';
import { esCaseOutput } from '../../../kibana-plugin/server/offline/es-case-output.ts';
import { CaseJobs, DEFAULT_JOB_LIMITS, type JobLimits } from '../../../kibana-plugin/server/offline/jobs.ts';
import type { OfflineHost } from '../../../kibana-plugin/server/offline/offline-api.ts';
import { DEFAULT_UPLOAD_LIMITS, type UploadLimits } from '../../../kibana-plugin/server/offline/upload.ts';
import type { SourceSpec } from '../graph/cli.ts';
import { analysisWorkerUrl } from '../install-layout.ts';
import { createClient, describeTarget } from '../output/elasticsearch/client.ts';
import { openUiStore } from './store.ts';

export interface UiCases {
  /** the cases directory */
  dir: string;
  host: OfflineHost;
  /** runs one read request against a case's store */
  use<T>(id: string, fn: (store: ProvmonStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface UiCasesOptions {
  /** the cases directory: local stores of the cases, and the private upload directories (.uploads) */
  casesDir: string;
  limits?: Partial<UploadLimits>;
  jobs?: Partial<JobLimits>;
  notice?: (message: string) => void;
}

export const CASE_STORE_ROTATE_BYTES = 128 * 1024 * 1024;

export function openUiCases(source: SourceSpec, o: UiCasesOptions): UiCases {
  mkdirSync(o.casesDir, { recursive: true, mode: 0o700 });
  const notice = o.notice ?? (() => undefined);
  const jobs = new CaseJobs({ ...DEFAULT_JOB_LIMITS, ...o.jobs });
  const limits = { ...DEFAULT_UPLOAD_LIMITS, ...o.limits };
  const tmpRoot = join(o.casesDir, '.uploads');
  const client = source.kind === 'elasticsearch' ? createClient(source.es) : undefined;

  const host: OfflineHost = {
    jobs,
    limits,
    tmpRoot,
    worker: analysisWorkerUrl(),
    async openCase(id, workDir) {
      if (source.kind === 'local') {
        const dir = caseDir(o.casesDir, id);
        mkdirSync(dir, { mode: 0o700 });
        return { localStore: { dir, rotateBytes: CASE_STORE_ROTATE_BYTES, maxFiles: 1_000_000 }, where: `the local store in ${dir}` };
      }
      return esCaseOutput(client!, id, { dir: workDir, target: describeTarget(source.es) });
    },
  };

  return {
    dir: o.casesDir,
    host,
    async use(id, fn) {
      let spec: SourceSpec;
      if (source.kind === 'local') {
        const dir = caseDir(o.casesDir, id);
        if (!existsSync(dir)) throw new RouteError(404, `no case ${id} in ${o.casesDir}`);
        spec = { kind: 'local', dir };
      } else spec = { ...source, index: caseIndex(id) };
      const store = openUiStore(spec, notice);
      try {
        return await store.use(fn);
      } catch (error) {
        const f = store.describe(error);
        throw f ? new RouteError(f.status, f.message) : error;
      } finally {
        await store.close();
      }
    },
    close: async () => {
      // a running analysis is stopped (its worker terminated) and its upload removed, so shutdown is not held up
      await jobs.stop();
      await client?.close().catch(() => undefined);
    },
  };
}
