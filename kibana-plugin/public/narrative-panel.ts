/**
 * The provenance page's Narrative: a button for the graph shown, and a panel with the engine's deterministic
 * summary at once, then the model's text (with its model name) or the reason there is none. The model is asked by
 * the server (GET /api/provmon/narrative), never by the browser: the API key stays there. Mounted with the
 * graph's parameters as its React key, so nothing of one graph's narrative is shown with another.
 */
import { EuiButton, EuiCallOut, EuiFlexGroup, EuiFlexItem, EuiLoadingSpinner, EuiPanel, EuiSpacer, EuiText, EuiTitle } from '@elastic/eui';
import React, { useEffect, useRef, useState } from 'react';
import { deterministicSummary } from '../common/graph/narrative.ts';
import type { SummaryLine } from '../common/graph/model.ts';
import type { NarrativeAnswer } from '../server/narrative-route.ts';
import { messageOf } from './api.ts';
import type { CoreStart } from './kibana-types.ts';
import { h } from './h.ts';

type Phase = { name: 'closed' } | { name: 'waiting' } | { name: 'answered'; answer: NarrativeAnswer } | { name: 'failed'; message: string };

export interface NarrativeProps {
  core: CoreStart;
  /** the graph route's parameters of the graph shown */
  query: Record<string, string>;
  /** that graph's summary steps, shown before any answer */
  summary: SummaryLine[];
}

function ModelText(props: { answer: NarrativeAnswer }): React.ReactElement {
  const { answer } = props;
  if (answer.text) {
    return h(
      'div',
      null,
      h(EuiTitle, { size: 'xxs' }, h('h4', { 'data-test-subj': 'provmonNarrativeModel' }, `Model ${answer.model ?? '?'} (generated: check it against the summary)`)),
      h(EuiText, { size: 's', 'data-test-subj': 'provmonNarrativeText' }, ...answer.text.split(/\n\s*\n/).map((p, i) => h('p', { key: i, style: { whiteSpace: 'pre-wrap' } }, p))),
    );
  }
  return h(
    EuiCallOut,
    { size: 's', color: answer.reason?.startsWith('no ') ? 'primary' : 'warning', title: 'No model narrative: the summary is the account', 'data-test-subj': 'provmonNarrativeReason' },
    h('p', null, answer.reason ?? 'no reason given'),
  );
}

export function NarrativePanel(props: NarrativeProps): React.ReactElement {
  const { core, query } = props;
  const [phase, setPhase] = useState<Phase>({ name: 'closed' });
  // An answer that arrives after this graph was left, or after a newer request, is dropped.
  const latest = useRef(0);
  useEffect(
    () => () => {
      latest.current = -1;
    },
    [],
  );

  const ask = async () => {
    const seq = ++latest.current;
    setPhase({ name: 'waiting' });
    try {
      const answer = await core.http.get<NarrativeAnswer>('/api/provmon/narrative', { query });
      if (seq === latest.current) setPhase({ name: 'answered', answer });
    } catch (error) {
      if (seq === latest.current) setPhase({ name: 'failed', message: messageOf(error) });
    }
  };

  const waiting = phase.name === 'waiting';
  const lines = phase.name === 'answered' ? phase.answer.summary : deterministicSummary({ summary: props.summary });
  const status = waiting ? 'Asking the model…' : phase.name === 'answered' ? (phase.answer.text ? `Narrative by ${phase.answer.model ?? 'the model'}` : 'No model narrative') : phase.name === 'failed' ? 'The narrative could not be made' : '';
  return h(
    'div',
    null,
    h(EuiButton, { size: 's', iconType: 'document', onClick: () => void ask(), isLoading: waiting, 'data-test-subj': 'provmonNarrate' }, waiting ? 'Narrative (asking…)' : 'Narrative'),
    // Screen readers hear the outcome; the panel itself is not re-read.
    h('div', { 'aria-live': 'polite', role: 'status', 'data-test-subj': 'provmonNarrativeStatus', style: { position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' } }, status),
    phase.name === 'closed'
      ? null
      : h(
          EuiPanel,
          { paddingSize: 's', hasBorder: true, style: { marginTop: 8 }, 'data-test-subj': 'provmonNarrative', 'aria-busy': waiting, role: 'region', 'aria-label': 'Narrative of the graph' },
          h(EuiTitle, { size: 'xxs' }, h('h3', null, 'Narrative')),
          h(EuiSpacer, { size: 'xs' }),
          h(EuiTitle, { size: 'xxs' }, h('h4', null, 'Summary (deterministic, from the graph)')),
          lines.length
            ? h('ol', { 'data-test-subj': 'provmonNarrativeSummary', style: { fontSize: 12 } }, ...lines.map((l, i) => h('li', { key: i }, l)))
            : h(EuiText, { size: 's', 'data-test-subj': 'provmonNarrativeSummary' }, h('p', null, '(no steps)')),
          h(EuiSpacer, { size: 's' }),
          waiting
            ? h(EuiFlexGroup, { gutterSize: 's', alignItems: 'center', responsive: false, 'data-test-subj': 'provmonNarrativeWaiting' }, h(EuiFlexItem, { grow: false }, h(EuiLoadingSpinner, { size: 'm' })), h(EuiFlexItem, null, h(EuiText, { size: 's' }, h('p', null, 'Asking the model…'))))
            : phase.name === 'answered'
              ? h(ModelText, { answer: phase.answer })
              : phase.name === 'failed'
                ? h(EuiCallOut, { size: 's', color: 'danger', title: 'The narrative route failed: the summary above is the account', 'data-test-subj': 'provmonNarrativeReason' }, h('p', null, phase.message))
                : null,
          phase.name === 'answered' && phase.answer.notice ? h(EuiText, { size: 'xs', color: 'subdued' }, h('p', null, `The graph told was cut: ${phase.answer.notice}`)) : null,
        ),
  );
}
