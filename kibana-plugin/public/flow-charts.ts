/**
 * The Flows page's charts as vega-lite specs over one /api/provmon/flows answer: values inline (the route already
 * aggregated), no expressions beyond what vega's interpreter evaluates, so they render under a CSP without
 * unsafe-eval. A ranked chart draws its left-out values as one "(other)" bar: truncation is visible.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Bucket, FlowsAnswer, Ranked } from '../common/flows/answer.ts';

export interface ChartDef {
  id: string;
  title: string;
  spec: TopLevelSpec;
  /** charts with thousands of marks draw on a canvas (an SVG node per mark costs seconds) */
  renderer?: 'canvas';
}

const WIDTH = 380;
const HEIGHT = 220;
const OTHER = '(other)';

function withOther(r: Ranked, metric: 'flows' | 'bytes'): { key: string; value: number; label: string }[] {
  const rows = r.buckets.map((b: Bucket) => ({ key: b.key, value: b[metric], label: b.label ? `${b.label} (${b.key.slice(0, 8)})` : b.key }));
  const rest = metric === 'flows' ? r.other.flows : r.other.bytes;
  if (r.other.flows > 0 && rest !== null) rows.push({ key: OTHER, value: rest, label: OTHER });
  return rows;
}

function bars(title: string, values: { label: string; value: number }[], measure: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 180 } },
      x: { field: 'value', type: 'quantitative', title: measure },
      color: { condition: { test: `datum.label === '${OTHER}'`, value: '#aaaaaa' }, value: '#54b399' },
    },
    description: title,
  } as TopLevelSpec;
}

export function flowCharts(a: FlowsAnswer): ChartDef[] {
  const r = a.ranked;
  const time = a.over_time.points.map((p) => ({ t: p.t, bytes: p.bytes, flows: p.flows }));
  const hourly = a.hourly.map((p) => {
    const d = new Date(p.t);
    return { day: d.toISOString().slice(0, 10), hour: d.getUTCHours(), bytes: p.bytes };
  });
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: WIDTH, height: HEIGHT } as const;
  const charts: ChartDef[] = [
    {
      id: 'protocols',
      title: 'Protocol distribution (flows)',
      spec: { ...base, data: { values: withOther(r.protocols, 'flows') }, mark: { type: 'arc', tooltip: true }, encoding: { theta: { field: 'value', type: 'quantitative' }, color: { field: 'label', type: 'nominal', title: 'transport' } } },
    },
    {
      id: 'traffic',
      title: `Traffic over time (bytes per ${a.over_time.interval})`,
      spec: { ...base, data: { values: time }, mark: { type: 'line', point: true, tooltip: true }, encoding: { x: { field: 't', type: 'temporal', title: null }, y: { field: 'bytes', type: 'quantitative' } } },
    },
    {
      id: 'flows_over_time',
      title: `Flows over time (per ${a.over_time.interval})`,
      spec: { ...base, data: { values: time }, mark: { type: 'bar', tooltip: true }, encoding: { x: { field: 't', type: 'temporal', title: null }, y: { field: 'flows', type: 'quantitative' } } },
    },
    { id: 'sources', title: 'Top source IPs (bytes)', spec: bars('Top source IPs', withOther(r.sources, 'bytes'), 'bytes') },
    { id: 'destinations', title: 'Top destination IPs (bytes)', spec: bars('Top destination IPs', withOther(r.destinations, 'bytes'), 'bytes') },
    { id: 'ports_by_flows', title: 'Destination ports by flow count', spec: bars('Ports by flows', withOther(r.ports_by_flows, 'flows'), 'flows') },
    { id: 'ports_by_bytes', title: 'Destination ports by bytes', spec: bars('Ports by bytes', withOther(r.ports_by_bytes, 'bytes'), 'bytes') },
    {
      id: 'durations',
      title: 'Flow duration distribution',
      spec: { ...base, data: { values: a.durations }, mark: { type: 'bar', tooltip: true }, encoding: { x: { field: 'key', type: 'ordinal', sort: null, title: 'duration' }, y: { field: 'flows', type: 'quantitative' } } },
    },
    {
      id: 'scatter',
      renderer: 'canvas',
      title: `Bytes vs packets (${a.scatter.points.length} flows${a.scatter.truncated ? ', the largest only' : ''})`,
      spec: {
        ...base,
        data: { values: a.scatter.points.map((p) => ({ ...p, bytes: Math.max(1, p.bytes), packets: Math.max(1, p.packets) })) },
        mark: { type: 'point', tooltip: true, opacity: 0.5 },
        encoding: {
          x: { field: 'packets', type: 'quantitative', scale: { type: 'log' } },
          y: { field: 'bytes', type: 'quantitative', scale: { type: 'log' } },
          color: { field: 'transport', type: 'nominal' },
        },
      },
    },
    { id: 'tcp_flags', title: 'TCP flags (flows with the flag)', spec: bars('TCP flags', withOther(r.tcp_flags, 'flows'), 'flows') },
    {
      id: 'heatmap',
      title: 'Traffic heatmap by hour (UTC, bytes)',
      spec: {
        ...base,
        data: { values: hourly },
        mark: { type: 'rect', tooltip: true },
        encoding: { x: { field: 'hour', type: 'ordinal', title: 'hour' }, y: { field: 'day', type: 'ordinal', title: null }, color: { field: 'bytes', type: 'quantitative' } },
      },
    },
    {
      id: 'domains',
      title: `Domains (bytes; ${a.totals.dns_resolved} of ${a.totals.flows} flows resolved)`,
      spec: bars('Domains', withOther(r.domains, 'bytes'), 'bytes'),
    },
    {
      id: 'processes',
      title: `Flows per process (bytes; ${a.totals.with_process} of ${a.totals.flows} flows attributed)`,
      spec: bars('Processes', withOther(r.processes, 'bytes'), 'bytes'),
    },
  ];
  return charts;
}
