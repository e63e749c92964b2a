/**
 * Finds processes by name or pid for the point of interest: a pid is not an identity (pids are reused), so the
 * matches are listed with their start time and the user picks one; the pick becomes `process:<entity_id>`.
 * It asks the events route for the processes' starts (exec, fork, already_running), so "name" means what the
 * events app's process filter means.
 */
import { EuiButtonEmpty, EuiFieldText, EuiFlexGroup, EuiFlexItem, EuiFormRow, EuiButton, EuiText } from '@elastic/eui';
import React, { useState } from 'react';
import type { EventsAnswer } from '../server/events-route.ts';
import { getJson } from './api.ts';
import { h } from './h.ts';
import type { CoreStart } from './kibana-types.ts';

interface Found {
  entityId: string;
  label: string;
}

export function ProcessFinder(props: { core: CoreStart; window: { from?: string; to?: string }; onPick(poi: string): void }): React.ReactElement {
  const [text, setText] = useState('');
  const [found, setFound] = useState<Found[] | undefined>();
  const find = async () => {
    const t = text.trim();
    if (!t) return;
    const query: Record<string, string> = { action: 'exec,fork,already_running', size: '5000', sort: 'desc', ...(/^\d+$/.test(t) ? { pid: t } : { process_name: t }) };
    if (props.window.from) query.from = props.window.from;
    if (props.window.to) query.to = props.window.to;
    const answer = await getJson<EventsAnswer>(props.core, '/api/provmon/events', query, `processes matching ${t}`);
    if (!answer) return;
    const byEntity = new Map<string, Found>();
    for (const ev of answer.events) {
      const p = ev.process;
      if (!p?.entity_id || byEntity.has(p.entity_id)) continue;
      byEntity.set(p.entity_id, { entityId: p.entity_id, label: `${p.name ?? '?'}[${p.pid}] ${p.args?.join(' ') ?? p.executable ?? ''} · started ${p.start ?? ev['@timestamp']} on ${ev.host.name}` });
    }
    setFound([...byEntity.values()].slice(0, 50));
  };
  return h(
    'div',
    { 'data-test-subj': 'provmonProcessFinder' },
    h(
      EuiFlexGroup,
      { gutterSize: 's', alignItems: 'flexEnd' },
      h(EuiFlexItem, { grow: false }, h(EuiFormRow, { label: 'Find a process (name or pid)', display: 'rowCompressed' }, h(EuiFieldText, { value: text, compressed: true, onChange: (e: { target: { value: string } }) => setText(e.target.value), 'data-test-subj': 'provmonFindProcess', 'aria-label': 'process name or pid' }))),
      h(EuiFlexItem, { grow: false }, h(EuiButton, { size: 's', onClick: () => void find(), 'data-test-subj': 'provmonFindProcessButton' }, 'Find')),
    ),
    found === undefined
      ? null
      : found.length === 0
        ? h(EuiText, { size: 's' }, h('p', null, `No process start matches ${JSON.stringify(text)} in this window.`))
        : h('ul', { style: { fontSize: 12 } }, ...found.map((f) => h('li', { key: f.entityId }, h(EuiButtonEmpty, { size: 'xs', flush: 'left', onClick: () => props.onPick(`process:${f.entityId}`), 'data-test-subj': 'provmonFoundProcess' }, f.label)))),
  );
}
