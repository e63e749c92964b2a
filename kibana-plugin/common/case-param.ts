/**
 * The query parameter that makes a read route (and every page of the app) look at one uploaded case instead of the
 * live data. Shared by the browser and both hosts; what a case id is and where it lives is decided in
 * kibana-plugin/server/offline/case-id.ts.
 */
export const CASE_PARAM = 'case';

export const OFFLINE_CASES_PATH = '/api/provmon/offline/cases';
