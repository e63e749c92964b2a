/**
 * Flows: the charts of GET /api/provmon/flows (vega, see flow-charts.ts), its filters (in the URL), the top-100
 * table sortable by bytes, packets and duration (sorted by the route, over every flow of the range), rare
 * destinations, and a link from a flow to the provenance graph of the process behind it.
 */
import { EuiBasicTable, EuiButton, EuiCallOut, EuiFieldText, EuiFlexGrid, EuiFlexGroup, EuiFlexItem, EuiFormRow, EuiLink, EuiSelect, EuiSpacer, EuiText, EuiTitle } from '@elastic/eui';
import React, { useEffect, useMemo, useRef, useState } from 'react';
import { INTERVALS, type FlowRow, type FlowsAnswer, type TableSort } from '../common/flows/answer.ts';
import { compact, getJson } from './api.ts';
import type { PageProps } from './app.ts';
import { flowCharts } from './flow-charts.ts';
import { h } from './h.ts';
import { pushState } from './url-state.ts';
import { VegaChart } from './vega-chart.ts';

const FILTERS = [
  { key: 'from', label: 'From', placeholder: '24h or ISO time' },
  { key: 'to', label: 'To', placeholder: 'now' },
  { key: 'host', label: 'Host' },
  { key: 'transport', label: 'Transport', placeholder: 'tcp, udp, icmp' },
  { key: 'ip', label: 'IP' },
  { key: 'port', label: 'Port' },
  { key: 'domain', label: 'Domain' },
  { key: 'process', label: 'Process name' },
] as const;
const PARAMS = [...FILTERS.map((f) => f.key), 'interval', 'sort'];
const SORT_FIELDS: Record<string, TableSort> = { bytes: 'bytes', packets: 'packets', duration_ns: 'duration' };

const ms = (ns: number | null) => (ns === null ? '' : ns < 1e6 ? `${(ns / 1e6).toFixed(3)} ms` : ns < 1e9 ? `${(ns / 1e6).toFixed(1)} ms` : `${(ns / 1e9).toFixed(2)} s`);

export function FlowsPage(props: PageProps): React.ReactElement {
  const { core, history, search } = props;
  const url = Object.fromEntries(new URLSearchParams(search));
  const [form, setForm] = useState<Record<string, string>>(url);
  const [data, setData] = useState<FlowsAnswer | undefined>();
  const [loading, setLoading] = useState(false);
  const latest = useRef(0);
  useEffect(() => {
    setForm(url);
    setLoading(true);
    const seq = ++latest.current;
    void getJson<FlowsAnswer>(core, '/api/provmon/flows', compact(Object.fromEntries(PARAMS.map((k) => [k, url[k]]))), 'flows').then((d) => {
      if (seq !== latest.current) return;
      setData(d);
      setLoading(false);
    });
  }, [search]);
  const charts = useMemo(() => (data ? flowCharts(data) : []), [data]);
  const chartError = (message: string) => core.notifications.toasts.addDanger({ title: 'A chart could not be drawn', text: message });
  const submit = () => pushState(history, '/flows', Object.fromEntries(PARAMS.map((k) => [k, form[k]])));
  const openGraph = (row: FlowRow) => pushState(history, '/provenance', { poi: `process:${row.entity_id}`, direction: 'backward', to: row.end });
  const sort = (url.sort as TableSort | undefined) ?? 'bytes';
  return h(
    'div',
    { 'data-test-subj': 'provmonFlows' },
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
            h(EuiFormRow, { label: f.label, display: 'rowCompressed' }, h(EuiFieldText, { value: form[f.key] ?? '', placeholder: 'placeholder' in f ? f.placeholder : '', compressed: true, onChange: (e: { target: { value: string } }) => setForm({ ...form, [f.key]: e.target.value }), 'data-test-subj': `provmonFlowFilter-${f.key}`, style: { width: 140 } })),
          ),
        ),
        h(EuiFlexItem, { grow: false }, h(EuiFormRow, { label: 'Interval', display: 'rowCompressed' }, h(EuiSelect, { compressed: true, value: form.interval ?? '5m', onChange: (e: { target: { value: string } }) => setForm({ ...form, interval: e.target.value }), options: Object.keys(INTERVALS).map((v) => ({ value: v, text: v })) }))),
        h(EuiFlexItem, { grow: false }, h(EuiButton, { type: 'submit', fill: true, size: 's', 'data-test-subj': 'provmonFlowsApply' }, loading ? 'Apply (loading…)' : 'Apply')),
      ),
    ),
    h(EuiSpacer, { size: 'm' }),
    !data
      ? h(EuiText, { size: 's' }, h('p', null, loading ? 'Aggregating flows…' : 'No answer (see the message).'))
      : h(
          'div',
          null,
          h(EuiText, { size: 's', 'data-test-subj': 'provmonFlowsSummary' }, h('p', null, `${data.totals.flows} flows · ${data.totals.bytes} bytes · ${data.totals.packets} packets · ${data.totals.dns_resolved} with a domain · ${data.totals.with_process} with a process`)),
          data.scan.truncated ? h(EuiCallOut, { color: 'warning', size: 's', title: `The local store's read stopped at ${data.scan.scanned} flows: the charts cover those only; narrow the time range.` }) : null,
          h(EuiSpacer, { size: 's' }),
          h(EuiFlexGrid, { columns: 3, gutterSize: 's' }, ...charts.map((c) => h(EuiFlexItem, { key: c.id }, h(VegaChart, { chart: c, onError: chartError })))),
          h(EuiSpacer, { size: 'm' }),
          h(EuiTitle, { size: 'xs' }, h('h2', null, 'Rare destinations (fewest flows first)')),
          h(EuiBasicTable, {
            'data-test-subj': 'provmonRareDestinations',
            tableCaption: 'Rare destinations',
            items: data.ranked.rare_destinations.buckets,
            columns: [
              { field: 'key', name: 'Destination IP' },
              { field: 'flows', name: 'Flows' },
              { field: 'bytes', name: 'Bytes' },
              { field: 'first_seen', name: 'First seen' },
              { field: 'key', name: '', render: (ip: string) => h(EuiLink, { onClick: () => pushState(history, '/flows', { ...url, ip }) }, 'filter') },
            ],
          }),
          data.ranked.rare_destinations.other.flows > 0 ? h(EuiText, { size: 'xs' }, h('p', null, `${data.ranked.rare_destinations.other.flows} more flows to other destinations`)) : null,
          h(EuiSpacer, { size: 'm' }),
          h(EuiTitle, { size: 'xs' }, h('h2', null, `Top ${data.table.rows.length} flows by ${data.table.sort}`)),
          h(EuiBasicTable, {
            'data-test-subj': 'provmonFlowTable',
            tableCaption: `Top flows by ${data.table.sort}`,
            items: data.table.rows,
            sorting: { sort: { field: Object.keys(SORT_FIELDS).find((k) => SORT_FIELDS[k] === sort) ?? 'bytes', direction: 'desc' } },
            onChange: (c: { sort?: { field: string } }) => {
              const next = c.sort ? SORT_FIELDS[c.sort.field] : undefined;
              if (next && next !== sort) pushState(history, '/flows', { ...url, sort: next });
            },
            columns: [
              { field: 'end', name: 'Last packet', width: '210px' },
              { field: 'host', name: 'Host', width: '100px' },
              { field: 'transport', name: 'Proto', width: '60px' },
              { field: 'source', name: 'Source' },
              { field: 'destination', name: 'Destination' },
              { field: 'domain', name: 'Domain' },
              { field: 'bytes', name: 'Bytes', sortable: true, 'data-test-subj': 'provmonSortBytes' },
              { field: 'packets', name: 'Packets', sortable: true },
              { field: 'duration_ns', name: 'Duration', sortable: true, render: ms },
              {
                field: 'process',
                name: 'Process',
                render: (_: unknown, row: FlowRow) =>
                  row.entity_id ? h(EuiLink, { onClick: () => openGraph(row), 'data-test-subj': 'provmonFlowGraphLink' }, `${row.process ?? '?'} → graph`) : '',
              },
            ],
          }),
        ),
  );
}
