/**
 * The "Offline analysis" page: upload one capture and audit logs of a machine that had no provmon, follow the
 * analysis job, and read its summary (documents per dataset, how flows were attributed, the top processes by bytes
 * and flows, unattributed flows, a timeline), with links into the other pages for that case (`?case=<id>`).
 * The upload goes through XMLHttpRequest for its progress events, with the kbn-xsrf header Kibana requires.
 */
import {
  EuiBasicTable,
  EuiButton,
  EuiCallOut,
  EuiFieldNumber,
  EuiFieldText,
  EuiFilePicker,
  EuiFlexGroup,
  EuiFlexItem,
  EuiFormRow,
  EuiLink,
  EuiPanel,
  EuiProgress,
  EuiSpacer,
  EuiStat,
  EuiText,
  EuiTitle,
} from '@elastic/eui';
import React, { useEffect, useState } from 'react';
import { CASE_PARAM, OFFLINE_CASES_PATH } from '../common/case-param.ts';
import type { ProcessTraffic } from '../../sensor/src/analyze/analyze.ts';
import type { UnattributedFlow } from '../../sensor/src/analyze/correlate.ts';
import type { CaseStatus } from '../server/offline/jobs.ts';
import { messageOf } from './api.ts';
import type { PageProps } from './app.ts';
import { h } from './h.ts';
import type { CoreStart, ScopedHistory } from './kibana-types.ts';
import { pushState } from './url-state.ts';

const POLL_MS = 1000;

function sendUpload(core: CoreStart, form: FormData, onProgress: (share: number) => void): Promise<{ id: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', core.http.basePath.prepend(OFFLINE_CASES_PATH));
    xhr.setRequestHeader('kbn-xsrf', 'provmon');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body: { id?: string; message?: string } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        body = { message: xhr.responseText.slice(0, 300) };
      }
      if (xhr.status === 202 && body.id) resolve({ id: body.id });
      else reject(new Error(body.message ?? `the server answered HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error('the upload was cut off: the connection closed before the server answered (a file over the size limit, or the server went away)'));
    xhr.send(form);
  });
}

const bytes = (n: number) => (n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/** Every page of the app shows which case it is looking at, with the way back to the live data. */
export function CaseBanner(props: { history: ScopedHistory; search: string }): React.ReactElement | null {
  const id = new URLSearchParams(props.search).get(CASE_PARAM);
  if (!id) return null;
  const leave = () => pushState(props.history, props.history.location.pathname, { ...Object.fromEntries(new URLSearchParams(props.search)), [CASE_PARAM]: undefined });
  return h(
    'div',
    null,
    h(
      EuiCallOut,
      { size: 's', iconType: 'folderOpen', title: `Case ${id}`, 'data-test-subj': 'provmonCaseBanner' },
      h('p', null, 'This page shows an uploaded case (Offline analysis), not the live data. ', h(EuiLink, { onClick: leave, 'data-test-subj': 'provmonLeaveCase' }, 'Back to the live data')),
    ),
    h(EuiSpacer, { size: 's' }),
  );
}

function UploadForm(props: { core: CoreStart; history: ScopedHistory }): React.ReactElement {
  const { core, history } = props;
  const [capture, setCapture] = useState<File | undefined>();
  const [audit, setAudit] = useState<File[]>([]);
  const [tolerance, setTolerance] = useState('2');
  const [hostName, setHostName] = useState('');
  const [progress, setProgress] = useState<number | undefined>();
  const submit = async () => {
    const form = new FormData();
    form.append('tolerance', tolerance);
    if (hostName) form.append('host_name', hostName);
    if (capture) form.append('capture', capture, capture.name);
    for (const f of audit) form.append('audit', f, f.name);
    setProgress(0);
    try {
      const { id } = await sendUpload(core, form, setProgress);
      pushState(history, '/offline', { [CASE_PARAM]: id });
    } catch (error) {
      core.notifications.toasts.addDanger({ title: 'The upload was refused', text: messageOf(error) });
    } finally {
      setProgress(undefined);
    }
  };
  return h(
    EuiPanel,
    { paddingSize: 'm' },
    h(EuiText, { size: 's' }, h('p', null, 'A packet capture (pcap or pcapng) and the raw audit logs (audit.log, rotated audit.log.N) of a machine that had no provmon: flows are attributed to the processes whose socket syscalls match them.')),
    h(EuiSpacer, { size: 's' }),
    h(
      EuiFlexGroup,
      { wrap: true },
      h(
        EuiFlexItem,
        null,
        h(EuiFormRow, { label: 'Capture (one)' }, h(EuiFilePicker, { initialPromptText: 'pcap or pcapng', display: 'default', onChange: (files: FileList | null) => setCapture(files?.[0] ?? undefined), 'data-test-subj': 'provmonOfflineCapture' })),
      ),
      h(
        EuiFlexItem,
        null,
        h(EuiFormRow, { label: 'Audit logs' }, h(EuiFilePicker, { multiple: true, initialPromptText: 'audit.log files', display: 'default', onChange: (files: FileList | null) => setAudit(files ? Array.from(files) : []), 'data-test-subj': 'provmonOfflineAudit' })),
      ),
    ),
    h(
      EuiFlexGroup,
      { alignItems: 'flexEnd', wrap: true },
      h(EuiFlexItem, { grow: false }, h(EuiFormRow, { label: 'Tolerance (s)', helpText: 'how far a socket syscall and its flow may be apart' }, h(EuiFieldNumber, { min: 0, max: 3600, step: 0.1, value: tolerance, onChange: (e: React.ChangeEvent<HTMLInputElement>) => setTolerance(e.target.value), 'data-test-subj': 'provmonOfflineTolerance' }))),
      h(EuiFlexItem, { grow: false }, h(EuiFormRow, { label: 'Host name (optional)', helpText: "default: the audit log's node=" }, h(EuiFieldText, { value: hostName, onChange: (e: React.ChangeEvent<HTMLInputElement>) => setHostName(e.target.value) }))),
      h(
        EuiFlexItem,
        { grow: false },
        h(EuiFormRow, { hasEmptyLabelSpace: true }, h(EuiButton, { fill: true, isLoading: progress !== undefined, isDisabled: (!capture && audit.length === 0) || progress !== undefined, onClick: () => void submit(), 'data-test-subj': 'provmonOfflineUpload' }, 'Upload and analyse')),
      ),
    ),
    progress !== undefined ? h(EuiProgress, { value: Math.round(progress * 100), max: 100, size: 's', label: 'Uploading', valueText: true, 'data-test-subj': 'provmonOfflineUploadProgress' }) : null,
  );
}

function JobProgress(props: { job: CaseStatus }): React.ReactElement {
  const { job } = props;
  const p = job.progress;
  const detail =
    job.phase === 'queued' ? 'waiting for the analysis before it' : p?.phase === 'audit' ? `audit logs: ${bytes(p.bytes ?? 0)}${p.totalBytes ? ` of ${bytes(p.totalBytes)}` : ''}` : p?.phase === 'pcap' ? `capture: ${p.packets ?? 0} packets` : 'starting';
  const share = p?.phase === 'audit' && p.totalBytes ? Math.round(((p.bytes ?? 0) / p.totalBytes) * 100) : undefined;
  return h(
    EuiPanel,
    { paddingSize: 'm', 'data-test-subj': 'provmonOfflineJob' },
    h(EuiText, { size: 's' }, h('p', null, `Analysing case ${job.id}: ${detail}; ${p?.documents ?? 0} documents so far`)),
    share === undefined ? h(EuiProgress, { size: 's' }) : h(EuiProgress, { value: share, max: 100, size: 's' }),
  );
}

function CaseSummary(props: { job: CaseStatus; history: ScopedHistory }): React.ReactElement {
  const { job, history } = props;
  const s = job.summary!;
  const total = Object.values(s.documents).reduce((a, b) => a + b, 0);
  const go = (page: string, state: Record<string, string> = {}) => pushState(history, page, { ...state, [CASE_PARAM]: job.id });
  const maxBucket = Math.max(1, ...s.timeline.buckets.map((b) => b.events + b.flows));
  // the case's own time span: the pages default to the last hours, and a case is usually older
  const span: Record<string, string> = s.timeline.from && s.timeline.to ? { from: s.timeline.from, to: new Date(Date.parse(s.timeline.to) + 1000).toISOString() } : {};
  return h(
    'div',
    { 'data-test-subj': 'provmonOfflineSummary' },
    h(
      EuiCallOut,
      { color: 'success', iconType: 'check', title: `Case ${job.id}: ${total} documents from ${s.host.name}` },
      h('p', null, `Written to ${job.where ?? 'the case'}. `, h(EuiLink, { onClick: () => go('/', span), 'data-test-subj': 'provmonCaseOverview' }, 'Overview'), ' · ', h(EuiLink, { onClick: () => go('/events', span), 'data-test-subj': 'provmonCaseEvents' }, 'Events'), ' · ', h(EuiLink, { onClick: () => go('/flows', span), 'data-test-subj': 'provmonCaseFlows' }, 'Flows')),
      h('p', null, [s.pcap ? `Capture ${s.pcap.file} (${s.pcap.format}): ${s.pcap.packets} packets, ${s.pcap.flows} flows, ${s.pcap.dns} DNS messages${s.pcap.malformed ? `, ${s.pcap.malformed} malformed` : ''}.` : 'No capture.', s.audit ? ` Audit logs ${s.audit.files.join(', ')}: ${s.audit.stats.records} records.` : ' No audit log.'].join('')),
      s.pcap?.error ? h('p', null, `The capture is damaged: ${s.pcap.error}`) : null,
    ),
    h(EuiSpacer, { size: 'm' }),
    h(
      EuiFlexGroup,
      { wrap: true },
      ...Object.entries(s.documents).map(([dataset, n]) => h(EuiFlexItem, { key: dataset, grow: false }, h(EuiPanel, { paddingSize: 's' }, h(EuiStat, { title: String(n), description: dataset, titleSize: 's' })))),
      h(EuiFlexItem, { grow: false }, h(EuiPanel, { paddingSize: 's' }, h(EuiStat, { title: `${s.correlation.attributed} / ${s.correlation.flows}`, description: 'flows attributed', titleSize: 's', 'data-test-subj': 'provmonOfflineAttributed' }))),
    ),
    h(EuiSpacer, { size: 'm' }),
    h(
      EuiFlexGroup,
      { wrap: true },
      h(
        EuiFlexItem,
        null,
        h(EuiTitle, { size: 'xs' }, h('h2', null, 'Top processes by bytes')),
        h(EuiBasicTable, {
          items: s.top_processes,
          tableCaption: 'Top processes by bytes and flows',
          'data-test-subj': 'provmonOfflineTopProcesses',
          columns: [
            {
              field: 'process',
              name: 'Process',
              render: (p: ProcessTraffic['process']) => h(EuiLink, { onClick: () => go('/provenance', { poi: `process:${p.entity_id}`, direction: 'both' }), 'data-test-subj': 'provmonOfflineProcessLink' }, `${p.name ?? p.executable ?? '?'} (${p.pid})`),
            },
            { field: 'process.executable', name: 'Executable' },
            { field: 'flows', name: 'Flows' },
            { field: 'bytes', name: 'Bytes', render: (n: number) => bytes(n) },
          ],
        }),
      ),
      h(
        EuiFlexItem,
        null,
        h(EuiTitle, { size: 'xs' }, h('h2', null, 'How flows were attributed')),
        h(EuiBasicTable, {
          items: [...Object.entries(s.correlation.by_method).map(([method, flows]) => ({ method, flows })), { method: 'unattributed', flows: s.correlation.unattributed }],
          tableCaption: 'Flows by attribution method',
          columns: [{ field: 'method', name: 'Method' }, { field: 'flows', name: 'Flows' }],
        }),
      ),
    ),
    h(EuiSpacer, { size: 'm' }),
    h(EuiTitle, { size: 'xs' }, h('h2', null, `Unattributed flows (${s.correlation.unattributed})`)),
    h(EuiBasicTable, {
      items: s.unattributed.slice(0, 100),
      tableCaption: 'Flows no process could be named for',
      'data-test-subj': 'provmonOfflineUnattributed',
      columns: [
        { field: 'start', name: 'Start' },
        { field: 'transport', name: 'Transport' },
        { field: 'source', name: 'Source' },
        { field: 'destination', name: 'Destination', render: (d: string, f: UnattributedFlow) => h(EuiLink, { onClick: () => go('/flows', { ip: d.replace(/^\[?([^\]]+?)\]?:\d+$/, '$1'), ...span }) }, d || f.flow_id) },
        { field: 'bytes', name: 'Bytes', render: (n: number) => bytes(n) },
        { field: 'candidates', name: 'Candidates', render: (c: string[]) => (c.length ? c.join(', ') : '—') },
      ],
    }),
    s.unattributed.length > 100 ? h(EuiText, { size: 'xs' }, h('p', null, `The first 100 of ${s.unattributed.length} are shown.`)) : null,
    h(EuiSpacer, { size: 'm' }),
    h(EuiTitle, { size: 'xs' }, h('h2', null, `Timeline ${s.timeline.from ?? ''} – ${s.timeline.to ?? ''}`)),
    h(EuiBasicTable, {
      items: s.timeline.buckets,
      tableCaption: 'Events and flows over time',
      columns: [
        { field: 'start', name: 'From' },
        { field: 'events', name: 'Events' },
        { field: 'flows', name: 'Flows' },
        { field: 'start', name: '', render: (_: string, b: { events: number; flows: number }) => h('div', { style: { background: '#6092C0', height: 8, width: `${Math.max(1, Math.round(((b.events + b.flows) / maxBucket) * 200))}px` }, 'aria-hidden': true }) },
      ],
    }),
  );
}

function CaseView(props: { core: CoreStart; history: ScopedHistory; id: string }): React.ReactElement {
  const { core, history, id } = props;
  const [job, setJob] = useState<CaseStatus | undefined>();
  const [gone, setGone] = useState<string | undefined>();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    setJob(undefined);
    setGone(undefined);
    const poll = async () => {
      try {
        const j = await core.http.get<CaseStatus>(`${OFFLINE_CASES_PATH}/${id}`);
        if (stopped) return;
        setJob(j);
        if (j.phase !== 'done' && j.phase !== 'failed') timer = setTimeout(() => void poll(), POLL_MS);
      } catch (error) {
        if (!stopped) setGone(messageOf(error));
      }
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [id]);
  if (gone) return h(EuiCallOut, { color: 'warning', title: `No analysis job ${id} here`, 'data-test-subj': 'provmonOfflineGone' }, h('p', null, gone));
  if (!job) return h(EuiCallOut, { title: `Loading case ${id}…`, size: 's' });
  if (job.phase === 'failed') return h(EuiCallOut, { color: 'danger', iconType: 'error', title: `The analysis of case ${id} failed`, 'data-test-subj': 'provmonOfflineFailed' }, h('p', null, job.error?.message ?? 'no reason given'));
  if (job.phase !== 'done') return h(JobProgress, { job });
  return h(CaseSummary, { job, history });
}

export function OfflinePage(props: PageProps): React.ReactElement {
  const { core, history, search } = props;
  const id = new URLSearchParams(search).get(CASE_PARAM);
  return h('div', { 'data-test-subj': 'provmonOffline' }, h(UploadForm, { core, history }), h(EuiSpacer, { size: 'm' }), id ? h(CaseView, { core, history, id }) : null);
}
