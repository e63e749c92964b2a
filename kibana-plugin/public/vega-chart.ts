/** One vega-lite chart in a panel; `data-rendered` tells tests and the bench the view finished its first run. */
import { EuiPanel, EuiTitle } from '@elastic/eui';
import React, { useEffect, useRef, useState } from 'react';
import type { ChartDef } from './flow-charts.ts';
import { h } from './h.ts';
import type { DrawnChart } from './vega-runtime.ts';

/** Loaded on the first chart, not with the bundle (see vega-runtime.ts). */
const vegaRuntime = (): typeof import('./vega-runtime.ts') => require('./vega-runtime.ts');

export function VegaChart(props: { chart: ChartDef; onError: (message: string) => void }): React.ReactElement {
  const { chart, onError } = props;
  const ref = useRef<HTMLDivElement>(null);
  const [rendered, setRendered] = useState(false);
  useEffect(() => {
    if (!ref.current) return;
    setRendered(false);
    let view: DrawnChart | undefined;
    try {
      view = vegaRuntime().drawChart(ref.current, chart.spec, chart.renderer);
      view.done.then(
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
