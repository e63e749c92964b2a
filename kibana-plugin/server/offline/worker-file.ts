/** The offline analysis worker's file in the plugin zip, beside server/index.js (build.ts writes it, plugin.ts starts it). */
export const ANALYSIS_WORKER_FILE = 'analysis-worker.js';
