/** Overview (the landing page): what GET /api/provmon/overview returns. */
import { EuiBasicTable, EuiCallOut, EuiFlexGroup, EuiFlexItem, EuiPanel, EuiSpacer, EuiStat, EuiTitle } from '@elastic/eui';
import React, { useEffect, useState } from 'react';
import type { OverviewAnswer } from '../server/overview-route.ts';
import { compact, getJson } from './api.ts';
import type { PageProps } from './app.ts';
import { h } from './h.ts';


export function OverviewPage(props: PageProps): React.ReactElement {
  const { core, search } = props;
  const [data, setData] = useState<OverviewAnswer | undefined>();
  const state = Object.fromEntries(new URLSearchParams(search));
  useEffect(() => {
    void getJson<OverviewAnswer>(core, '/api/provmon/overview', compact({ from: state.from, to: state.to }), 'the overview').then(setData);
  }, [search]);
  if (!data) return h(EuiCallOut, { title: 'Loading the overview…', size: 's' });
  return h(
    'div',
    { 'data-test-subj': 'provmonOverview' },
    data.truncated ? h(EuiCallOut, { color: 'warning', title: `Counts stop at ${data.scanned} events (the overview's scan bound)` }) : null,
    h(
      EuiFlexGroup,
      { wrap: true },
      ...Object.entries(data.datasets).map(([dataset, count]) =>
        h(EuiFlexItem, { key: dataset, grow: false }, h(EuiPanel, { paddingSize: 's' }, h(EuiStat, { title: String(count), description: dataset, titleSize: 's' }))),
      ),
    ),
    h(EuiSpacer, { size: 'm' }),
    h(
      EuiFlexGroup,
      null,
      h(
        EuiFlexItem,
        null,
        h(EuiTitle, { size: 'xs' }, h('h2', null, 'Top actions')),
        h(EuiBasicTable, { items: data.top_actions, columns: [{ field: 'action', name: 'Action' }, { field: 'count', name: 'Events' }], tableCaption: 'Top actions' }),
      ),
      h(
        EuiFlexItem,
        null,
        h(EuiTitle, { size: 'xs' }, h('h2', null, 'Top processes')),
        h(EuiBasicTable, { items: data.top_processes, columns: [{ field: 'name', name: 'Process' }, { field: 'count', name: 'Events' }], tableCaption: 'Top processes' }),
      ),
    ),
    h(EuiSpacer, { size: 'm' }),
    h(EuiTitle, { size: 'xs' }, h('h2', null, 'Sensors')),
    h(EuiBasicTable, {
      items: data.hosts,
      tableCaption: 'Sensors by host',
      'data-test-subj': 'provmonOverviewSensors',
      columns: [
        { field: 'name', name: 'Host' },
        { field: 'events', name: 'Events' },
        { field: 'last_event', name: 'Last event' },
        { field: 'drops', name: 'Drops reported', render: (d: number | null) => (d === null ? 'not reported' : String(d)) },
      ],
    }),
    h('p', null, `Window ${data.window.from} – ${data.window.to}`),
  );
}
