/**
 * One vega-lite chart: compiled to vega, parsed to an AST and run by vega's expression interpreter (no code is
 * generated, so no unsafe-eval under Kibana's or provmon ui's CSP), drawn as SVG. `data-rendered` tells tests and
 * the bench the view finished its first run.
 */
import { EuiPanel, EuiTitle } from '@elastic/eui';
import React, { useEffect, useRef, useState } from 'react';
import { parse, View } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile } from 'vega-lite';
import type { ChartDef } from './flow-charts.ts';
import { h } from './h.ts';

export function VegaChart(props: { chart: ChartDef; onError: (message: string) => void }): React.ReactElement {
  const { chart, onError } = props;
  const ref = useRef<HTMLDivElement>(null);
  const [rendered, setRendered] = useState(false);
  useEffect(() => {
    if (!ref.current) return;
    setRendered(false);
    let view: View | undefined;
    try {
      const runtime = parse(compile(chart.spec).spec, undefined, { ast: true });
      view = new View(runtime, { expr: expressionInterpreter, renderer: 'svg', container: ref.current, hover: true });
      view.runAsync().then(
        () => setRendered(true),
        (error: unknown) => onError(`${chart.title}: ${(error as Error).message}`),
      );
    } catch (error) {
      onError(`${chart.title}: ${(error as Error).message}`);
    }
    return () => {
      view?.finalize();
    };
  }, [chart]);
  return h(
    EuiPanel,
    { paddingSize: 's', hasBorder: true, 'data-test-subj': `provmonFlowChart-${chart.id}`, 'data-rendered': rendered ? 'true' : 'false' },
    h(EuiTitle, { size: 'xxs' }, h('h3', null, chart.title)),
    h('div', { ref, role: 'img', 'aria-label': chart.title }),
  );
}
