/**
 * Events: the table of GET /api/provmon/events with its filters (in the URL), the Target column, a summary row,
 * and a click on a row that opens the provenance graph of that event.
 */
import { EuiBasicTable, EuiButton, EuiCallOut, EuiFieldText, EuiFlexGroup, EuiFlexItem, EuiFormRow, EuiSelect, EuiSpacer, EuiText } from '@elastic/eui';
import React, { useEffect, useRef, useState } from 'react';
import type { EventRow, EventsAnswer } from '../server/events-route.ts';
import { compact, getJson } from './api.ts';
import type { PageProps } from './app.ts';
import { pushState } from './url-state.ts';
import { h } from './h.ts';


const FILTERS = [
  { key: 'from', label: 'From', placeholder: '24h or ISO time' },
  { key: 'to', label: 'To', placeholder: 'now' },
  { key: 'host', label: 'Host' },
  { key: 'action', label: 'Action', placeholder: 'exec,connection_attempted' },
  { key: 'process_name', label: 'Process name' },
  { key: 'pid', label: 'PID' },
  { key: 'ppid', label: 'PPID' },
  { key: 'entity_id', label: 'Entity id' },
  { key: 'q', label: 'Text' },
] as const;
const PARAMS = [...FILTERS.map((f) => f.key), 'sort', 'size', 'page'];

export function EventsPage(props: PageProps): React.ReactElement {
  const { core, history, search } = props;
  const url = Object.fromEntries(new URLSearchParams(search));
  const [form, setForm] = useState<Record<string, string>>(url);
  const [data, setData] = useState<EventsAnswer | undefined>();
  const [loading, setLoading] = useState(false);
  // Only the answer to the latest search is shown (a slow earlier one may arrive after it).
  const latest = useRef(0);
  useEffect(() => {
    setForm(url);
    setLoading(true);
    const seq = ++latest.current;
    void getJson<EventsAnswer>(core, '/api/provmon/events', compact(Object.fromEntries(PARAMS.map((k) => [k, url[k]]))), 'events').then((d) => {
      if (seq !== latest.current) return;
      setData(d);
      setLoading(false);
    });
  }, [search]);
  const submit = () => pushState(history, '/events', { ...Object.fromEntries(PARAMS.map((k) => [k, form[k]])), page: undefined });
  const openGraph = (ev: EventRow) => pushState(history, '/provenance', { poi: `event:${ev.event.id}`, direction: 'backward' });
  const page = Number(url.page ?? 0);
  const size = Number(url.size ?? 500);
  return h(
    'div',
    { 'data-test-subj': 'provmonEvents' },
    h(
      'form',
      { onSubmit: (e: React.FormEvent) => (e.preventDefault(), submit()) },
      h(
        EuiFlexGroup,
        { wrap: true, gutterSize: 's', alignItems: 'flexEnd' },
        ...FILTERS.map((f) =>
          h(
            EuiFlexItem,
            { key: f.key, grow: false },
            h(EuiFormRow, { label: f.label, display: 'rowCompressed' }, h(EuiFieldText, { value: form[f.key] ?? '', placeholder: 'placeholder' in f ? f.placeholder : '', compressed: true, onChange: (e: { target: { value: string } }) => setForm({ ...form, [f.key]: e.target.value }), 'data-test-subj': `provmonFilter-${f.key}`, style: { width: 150 } })),
          ),
        ),
        h(EuiFlexItem, { grow: false }, h(EuiFormRow, { label: 'Order', display: 'rowCompressed' }, h(EuiSelect, { compressed: true, value: form.sort ?? 'desc', onChange: (e: { target: { value: string } }) => setForm({ ...form, sort: e.target.value }), options: [{ value: 'desc', text: 'newest first' }, { value: 'asc', text: 'oldest first' }] }))),
        h(EuiFlexItem, { grow: false }, h(EuiFormRow, { label: 'Page size', display: 'rowCompressed' }, h(EuiSelect, { compressed: true, value: form.size ?? '500', onChange: (e: { target: { value: string } }) => setForm({ ...form, size: e.target.value }), options: ['500', '1000', '2000', '5000'].map((v) => ({ value: v, text: v })) }))),
        h(EuiFlexItem, { grow: false }, h(EuiButton, { type: 'submit', fill: true, size: 's', 'data-test-subj': 'provmonSearch' }, loading ? 'Search (loading…)' : 'Search')),
      ),
    ),
    h(EuiSpacer, { size: 'm' }),
    !data
      ? h(EuiText, { size: 's' }, h('p', null, loading ? 'Searching…' : 'No answer (see the message).'))
      : h(
          'div',
          null,
          h(
            EuiText,
            { size: 's', 'data-test-subj': 'provmonEventsSummary' },
            h('p', null, `${data.total} events · ${data.summary.unique_actions} actions · ${data.summary.processes} processes · ${data.summary.failures} failures · ${data.summary.hosts} hosts (${data.scanned} read)`),
          ),
          data.truncated ? h(EuiCallOut, { color: 'warning', size: 's', title: 'The search stopped at its bound: counts are lower bounds; narrow the time range.' }) : null,
          h(EuiBasicTable, {
            'data-test-subj': 'provmonEventTable',
            tableCaption: 'Events (click a row for its provenance graph)',
            items: data.events,
            rowProps: (ev: EventRow) => ({ onClick: () => openGraph(ev), style: { cursor: 'pointer' }, 'data-test-subj': 'provmonEventRow' }),
            columns: [
              { field: '@timestamp', name: 'Time', width: '230px' },
              { field: 'host.name', name: 'Host', width: '110px' },
              { field: 'event.action', name: 'Action', width: '160px' },
              { field: 'process.name', name: 'Process', render: (_: unknown, ev: EventRow) => (ev.process ? `${ev.process.name ?? '?'}[${ev.process.pid}]` : '') },
              { field: 'target', name: 'Target' },
              { field: 'event.outcome', name: 'Outcome', width: '90px' },
            ],
          }),
          h(EuiSpacer, { size: 's' }),
          h(
            EuiFlexGroup,
            { gutterSize: 's' },
            h(EuiFlexItem, { grow: false }, h(EuiButton, { size: 's', isDisabled: page === 0, onClick: () => pushState(history, '/events', { ...url, page: String(page - 1) }) }, 'Previous')),
            h(EuiFlexItem, { grow: false }, h(EuiButton, { size: 's', isDisabled: (page + 1) * size >= data.total, onClick: () => pushState(history, '/events', { ...url, page: String(page + 1) }) }, 'Next')),
          ),
        ),
  );
}
