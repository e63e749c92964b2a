/**
 * Provenance: choose a point of interest, window, direction, depth and reduction; the graph (canvas and tables),
 * node details with expansion, the engine's summary, PNG export. The whole state is in the URL.
 */
import {
  EuiButton,
  EuiCallOut,
  EuiDescriptionList,
  EuiFieldNumber,
  EuiFieldText,
  EuiFlexGroup,
  EuiFlexItem,
  EuiFormRow,
  EuiLink,
  EuiPanel,
  EuiSelect,
  EuiSpacer,
  EuiSwitch,
  EuiText,
  EuiTitle,
} from '@elastic/eui';
import type { Core } from 'cytoscape';
import layoutWorkerSource from 'provmon:layout-worker';
import React, { useEffect, useRef, useState } from 'react';
import ReactDOM from 'react-dom';
import type { GraphEdge, GraphNode } from '../common/graph/model.ts';
import type { GraphOutput } from '../common/graph/request.ts';
import type { EntityAnswer } from '../server/entity-route.ts';
import { compact, getJson } from './api.ts';
import type { PageProps } from './app.ts';
import { GraphCanvas, severityOf } from './graph-canvas.ts';
import { LayoutWorker, startDrawing, type Drawing } from './layout-client.ts';
import { NarrativePanel } from './narrative-panel.ts';
import { PagedTable } from './paged-table.ts';
import { ProcessFinder } from './process-finder.ts';
import { pushState } from './url-state.ts';
import { h } from './h.ts';


type Served = GraphOutput & { notice?: string };

/**
 * What the provenance page needs first, started by mountApp before the app's first render (which takes a tenth of
 * a second or more): the graph request of the URL's state, and the layout worker.
 */
export interface ProvenanceStart {
  search: string;
  graph: Promise<Served | undefined> | undefined;
  layouts: LayoutWorker;
  /** set by the page that took it: a page mounted later (back from another tab) starts afresh */
  taken: boolean;
}

export function startProvenance(core: PageProps['core'], search: string): ProvenanceStart {
  const url = Object.fromEntries(new URLSearchParams(search));
  return { search, graph: url.poi ? requestGraph(core, url) : undefined, layouts: new LayoutWorker(layoutWorkerSource), taken: false };
}

function requestGraph(core: PageProps['core'], url: Record<string, string>): Promise<Served | undefined> {
  return getJson<Served>(core, '/api/provmon/graph', queryOf(url), 'the graph');
}

/** A graph shown, with its drawing (started the moment the graph arrived). */
interface Shown {
  graph: Served;
  drawing: Drawing;
}

const FIELDS = ['poi', 'direction', 'from', 'to', 'depth', 'reduce', 'max_nodes'] as const;

/** The graph route's parameters for a URL's state (the narrative route takes the same). */
function queryOf(url: Record<string, string>): Record<string, string> {
  return compact({ ...Object.fromEntries(FIELDS.map((f) => [f, url[f]])), reduce: url.reduce === 'false' ? 'false' : undefined });
}

function entityPath(n: GraphNode): string | undefined {
  if (n.kind === 'process' && n.entity_id) return `/api/provmon/entity/process/${encodeURIComponent(n.entity_id)}`;
  // a channel (pipe:[inode], unix-socket:[id]) is found by the path its documents carry, like a file
  if ((n.kind === 'file' || n.kind === 'channel') && n.path) return `/api/provmon/entity/file/${encodeURIComponent(n.path)}`;
  if (n.kind === 'endpoint' && n.ip) return `/api/provmon/entity/endpoint/${encodeURIComponent(n.port === undefined ? n.ip : `${n.ip.includes(':') ? `[${n.ip}]` : n.ip}:${n.port}`)}`;
  return undefined;
}

function merge(g: Served, more: Pick<GraphOutput, 'nodes' | 'edges'>): Served {
  const ids = new Set(g.nodes.map((n) => n.id));
  const nodes = [...g.nodes, ...more.nodes.filter((n) => !ids.has(n.id)).map((n) => ({ ...n, poi: false }))];
  const seen = new Set(g.edges.map((e) => `${e.source}|${e.target}|${e.kind}`));
  const edges = [...g.edges, ...more.edges.filter((e) => !seen.has(`${e.source}|${e.target}|${e.kind}`)).map((e, i) => ({ ...e, id: `x${g.edges.length + i + 1}` }))];
  return { ...g, nodes, edges };
}

function NodeDetails(props: { node: GraphNode; onExpand(): void }): React.ReactElement {
  const n = props.node;
  const items = [
    { title: 'kind', description: n.kind },
    ...(n.executable ? [{ title: 'executable', description: n.executable }] : []),
    ...(n.args ? [{ title: 'args', description: n.args.join(' ') }] : []),
    ...(n.pid !== undefined ? [{ title: 'pid', description: String(n.pid) }] : []),
    ...(n.entity_id ? [{ title: 'entity id', description: n.entity_id }] : []),
    ...(n.start ? [{ title: 'start', description: n.start }] : []),
    ...(n.end ? [{ title: 'end', description: n.end }] : []),
    ...(n.path ? [{ title: 'path', description: n.path }] : []),
    ...(n.ip ? [{ title: 'address', description: n.port === undefined ? n.ip : `${n.ip}:${n.port}` }] : []),
    ...(n.domain ? [{ title: 'domain', description: n.domain }] : []),
    ...(n.flags ?? []).map((f) => ({ title: `${f.severity}: ${f.rule}`, description: `${f.technique ? `${f.technique} ` : ''}${f.tactic ? `(${f.tactic}) ` : ''}${f.reason}` })),
  ];
  return h(
    EuiPanel,
    { paddingSize: 's', 'data-test-subj': 'provmonNodeDetails' },
    h(EuiTitle, { size: 'xxs' }, h('h3', null, n.label)),
    h(EuiDescriptionList, { compressed: true, type: 'column', listItems: items }),
    h(EuiSpacer, { size: 's' }),
    entityPath(n) ? h(EuiButton, { size: 's', onClick: props.onExpand, 'data-test-subj': 'provmonExpand' }, 'Expand neighbours') : null,
  );
}

export function ProvenancePage(props: PageProps & { start?: ProvenanceStart }): React.ReactElement {
  const { core, history, search } = props;
  const url = Object.fromEntries(new URLSearchParams(search));
  const [form, setForm] = useState<Record<string, string>>({ direction: 'backward', reduce: 'true', ...url });
  const [shown, setShown] = useState<Shown | undefined>();
  const graph = shown?.graph;
  // The URL search the graph shown was traced for (the URL moves on before the next graph arrives).
  const [graphSearch, setGraphSearch] = useState('');
  const [loading, setLoading] = useState(Boolean(url.poi));
  const [selected, setSelected] = useState<string | undefined>();
  const [png, setPng] = useState<string | undefined>();
  const cy = useRef<Core | undefined>(undefined);
  // Only the answer to the latest request is shown (a slow earlier one may arrive after it).
  const latest = useRef(0);
  const [start] = useState(() => {
    const s = props.start?.taken === false ? props.start : undefined;
    if (s) s.taken = true;
    return s;
  });
  const layouts = useRef<LayoutWorker | undefined>(start?.layouts);
  // The request mountApp started is used once, by the first trace of the same URL state.
  const started = useRef(start);
  const layoutWorker = (): LayoutWorker => (layouts.current ??= new LayoutWorker(layoutWorkerSource));
  const show = (g: Served): Shown => ({ graph: g, drawing: startDrawing(g.nodes, g.edges, layoutWorker()) });

  // The layout worker starts with the page (its code compiles while the graph is fetched).
  useEffect(() => {
    layoutWorker();
    return () => {
      layouts.current?.dispose();
      layouts.current = undefined;
    };
  }, []);

  // The form and selection start from the URL: only a later URL resets them (no second render at mount).
  const traced = useRef(false);
  useEffect(() => {
    if (traced.current) {
      setForm({ direction: 'backward', reduce: 'true', ...url });
      setSelected(undefined);
    }
    traced.current = true;
    if (!url.poi) {
      setShown(undefined);
      return;
    }
    setLoading(true);
    const seq = ++latest.current;
    const early = started.current?.search === search ? started.current.graph : undefined;
    started.current = undefined;
    void (early ?? requestGraph(core, url)).then((g) => {
      if (seq !== latest.current) return;
      // Laid out from here on, while the page renders the graph's tables.
      const next = g && show(g);
      // One render for both (React 17 does not batch updates made in a promise callback).
      ReactDOM.unstable_batchedUpdates(() => {
        setShown(next);
        setGraphSearch(search);
        setLoading(false);
      });
    });
  }, [search]);

  const set = (k: string) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const submit = () => pushState(history, '/provenance', Object.fromEntries(FIELDS.map((f) => [f, form[f]])));
  const selectedNode = graph?.nodes.find((n) => n.id === selected);
  const labels = new Map(graph?.nodes.map((n) => [n.id, n.label]) ?? []);

  const expand = async (n: GraphNode) => {
    const path = entityPath(n);
    if (!path || !graph) return;
    const more = await getJson<EntityAnswer>(core, path, {}, `the neighbours of ${n.label}`);
    if (more) setShown(show(merge(graph, more.neighbours)));
  };
  const exportPng = () => {
    const blob = cy.current?.png({ output: 'blob', full: true, scale: 2, bg: '#ffffff' }) as Blob | undefined;
    if (!blob) return;
    if (png) URL.revokeObjectURL(png);
    setPng(URL.createObjectURL(blob));
  };

  const formRow = (label: string, child: React.ReactElement) => h(EuiFlexItem, { grow: false }, h(EuiFormRow, { label, display: 'rowCompressed' }, child));
  return h(
    'div',
    { 'data-test-subj': 'provmonProvenance' },
    h(
      'form',
      { onSubmit: (e: React.FormEvent) => (e.preventDefault(), submit()) },
      h(
        EuiFlexGroup,
        { wrap: true, gutterSize: 's', alignItems: 'flexEnd' },
        h(EuiFlexItem, { style: { minWidth: 320 } }, h(EuiFormRow, { label: 'Point of interest', helpText: 'process:<entity id> | file:/path | ip:1.2.3.4[:port] | event:<id>', display: 'rowCompressed' }, h(EuiFieldText, { value: form.poi ?? '', onChange: set('poi'), compressed: true, 'data-test-subj': 'provmonPoi', 'aria-label': 'Point of interest' }))),
        formRow('Direction', h(EuiSelect, { value: form.direction, onChange: set('direction'), compressed: true, options: ['backward', 'forward', 'both'].map((v) => ({ value: v, text: v })), 'data-test-subj': 'provmonDirection' })),
        formRow('From', h(EuiFieldText, { value: form.from ?? '', onChange: set('from'), compressed: true, placeholder: '2h or ISO time' })),
        formRow('To', h(EuiFieldText, { value: form.to ?? '', onChange: set('to'), compressed: true, placeholder: 'now' })),
        formRow('Depth', h(EuiFieldNumber, { value: form.depth ?? '', onChange: set('depth'), compressed: true, min: 1, placeholder: '32', style: { width: 80 } })),
        formRow('Reduce', h(EuiSwitch, { label: 'on', checked: form.reduce !== 'false', onChange: (e: { target: { checked: boolean } }) => setForm({ ...form, reduce: e.target.checked ? 'true' : 'false' }), compressed: true })),
        h(EuiFlexItem, { grow: false }, h(EuiButton, { type: 'submit', fill: true, size: 's', 'data-test-subj': 'provmonTrace' }, loading ? 'Trace (tracing…)' : 'Trace')),
      ),
    ),
    h(EuiSpacer, { size: 's' }),
    h(ProcessFinder, {
      core,
      window: { ...(form.from ? { from: form.from } : {}), ...(form.to ? { to: form.to } : {}) },
      onPick: (poi: string) => pushState(history, '/provenance', { ...Object.fromEntries(FIELDS.map((f) => [f, form[f]])), poi }),
    }),
    h(EuiSpacer, { size: 'm' }),
    !graph
      ? h(EuiText, { size: 's' }, h('p', null, url.poi ? (loading ? 'Tracing…' : 'No graph (see the message).') : 'Choose a point of interest, or open an event from the Events page.'))
      : h(
          'div',
          null,
          h(
            EuiText,
            { size: 's', 'data-test-subj': 'provmonGraphStats' },
            h('p', null, `${graph.poi}, ${graph.direction}: ${graph.stats.nodes} nodes and ${graph.stats.edges} edges (before reduction ${graph.stats.nodes_before} nodes, ${graph.stats.edges_before} edges) from ${graph.stats.events} events`),
          ),
          graph.notice ? h(EuiCallOut, { color: 'warning', size: 's', title: `Truncated: ${graph.notice}`, 'data-test-subj': 'provmonTruncated' }) : null,
          h(EuiSpacer, { size: 's' }),
          h(
            EuiFlexGroup,
            null,
            h(EuiFlexItem, { grow: 3 }, h(GraphCanvas, {
              nodes: graph.nodes,
              edges: graph.edges,
              drawing: shown!.drawing,
              onSelect: setSelected,
              onReady: (c: Core | undefined) => (cy.current = c),
              onError: (error: Error) => core.notifications.toasts.addDanger({ title: 'Could not draw the graph', text: error.message }),
            }),
              h(EuiSpacer, { size: 's' }),
              h(EuiFlexGroup, { gutterSize: 's', alignItems: 'center' },
                h(EuiFlexItem, { grow: false }, h(EuiButton, { size: 's', onClick: exportPng, 'data-test-subj': 'provmonExportPng' }, 'Export PNG')),
                png ? h(EuiFlexItem, { grow: false }, h(EuiLink, { href: png, download: `provmon-graph.png`, 'data-test-subj': 'provmonPngLink' }, 'Download provmon-graph.png')) : null,
              ),
            ),
            h(
              EuiFlexItem,
              { grow: 1 },
              selectedNode ? h(NodeDetails, { node: selectedNode, onExpand: () => void expand(selectedNode) }) : h(EuiText, { size: 's' }, h('p', null, 'Click a node (or a row of the node table) for its details.')),
              h(EuiSpacer, { size: 's' }),
              h(EuiTitle, { size: 'xxs' }, h('h3', null, 'Summary')),
              h('ol', { 'data-test-subj': 'provmonSummary', style: { fontSize: 12 } }, ...graph.summary.slice(0, 40).map((s, i) => h('li', { key: i }, `${s.at} ${s.text}`))),
            ),
          ),
          h(EuiSpacer, { size: 's' }),
          h(NarrativePanel, { key: graphSearch, core, query: queryOf(Object.fromEntries(new URLSearchParams(graphSearch))), summary: graph.summary }),
          h(EuiSpacer, { size: 'm' }),
          h(EuiTitle, { size: 'xs' }, h('h2', null, 'Nodes')),
          h(PagedTable, {
            'data-test-subj': 'provmonNodeTable',
            tableCaption: 'Nodes of the graph',
            items: graph.nodes,
            rowProps: (n: GraphNode) => ({ onClick: () => setSelected(n.id), 'data-test-subj': 'provmonNodeRow' }),
            columns: [
              { field: 'kind', name: 'Kind', width: '90px' },
              { field: 'label', name: 'Node' },
              { field: 'flags', name: 'Findings', render: (_: unknown, n: GraphNode) => (n.flags ?? []).map((f) => `${f.severity} ${f.rule}${f.technique ? ` (${f.technique})` : ''}`).join('; ') },
              { field: 'attack_path', name: 'Attack path', width: '100px', render: (v: boolean | undefined) => (v ? 'yes' : '') },
              { field: 'id', name: 'Severity', width: '90px', render: (_: unknown, n: GraphNode) => severityOf(n) ?? '' },
            ],
          }),
          h(EuiSpacer, { size: 'm' }),
          h(EuiTitle, { size: 'xs' }, h('h2', null, 'Edges')),
          h(PagedTable, {
            'data-test-subj': 'provmonEdgeTable',
            tableCaption: 'Edges of the graph',
            items: graph.edges,
            columns: [
              { field: 'source', name: 'From', render: (id: string) => labels.get(id) ?? id },
              { field: 'kind', name: 'Edge', width: '90px' },
              { field: 'target', name: 'To', render: (id: string) => labels.get(id) ?? id },
              { field: 'first', name: 'First' },
              { field: 'count', name: 'Count', width: '70px' },
              { field: 'attack_path', name: 'Attack path', width: '100px', render: (v: boolean | undefined) => (v ? 'yes' : '') },
            ],
          }),
        ),
  );
}
