/**
 * vega, vega-lite and vega's expression interpreter, loaded on first use (vega-chart.ts requires this module inside
 * a function): the bundle's load must run only its define call, and vega's modules run code at their top level.
 * Specs are compiled to vega, parsed to an AST and evaluated by the interpreter: no code is generated, so charts
 * draw under a CSP without unsafe-eval.
 */
import { parse, View } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface DrawnChart {
  done: Promise<void>;
  finalize(): void;
}

/** SVG keeps marks in the DOM (tests and screen readers see them); a chart of thousands of marks draws on a canvas. */
export function drawChart(container: HTMLElement, spec: TopLevelSpec, renderer: 'svg' | 'canvas' = 'svg'): DrawnChart {
  const runtime = parse(compile(spec).spec, undefined, { ast: true });
  const view = new View(runtime, { expr: expressionInterpreter, renderer, container, hover: true });
  return { done: view.runAsync().then(() => undefined), finalize: () => view.finalize() };
}
