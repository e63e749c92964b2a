/**
 * Lays provenance graphs out in a Web Worker (dagre on a 1,000-node graph is a few hundred milliseconds the page's
 * main thread spends on its tables meanwhile). The worker starts with the page, before the graph arrives, so its
 * code is compiled by then. It runs from a blob URL: the plugin is one file (no chunks), and Kibana's CSP, like
 * provmon ui's, allows `worker-src blob:`. Where a worker cannot start or fails, the layout runs on the main thread:
 * the same code, the same answer, only not in parallel.
 */
import type { GraphEdge, GraphNode } from '../common/graph/model.ts';
import { edgesByPair, LARGE_GRAPH, layoutCentres, layoutOf, layoutRequest, type DrawnEdge, type Layout, type LayoutRequest } from './graph-layout.ts';

export interface LayoutMessage {
  seq: number;
  request: LayoutRequest;
}

export interface LayoutReply {
  seq: number;
  centres?: Float64Array;
  error?: string;
}

export class LayoutWorker {
  private worker: Worker | undefined;
  private url: string | undefined;
  private readonly pending = new Map<number, { request: LayoutRequest; resolve(centres: Float64Array): void; reject(error: Error): void }>();
  private seq = 0;

  /** `source`: the worker's code (the plugin passes the text its build embeds, `provmon:layout-worker`). */
  constructor(source: string) {
    try {
      this.url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const worker = new Worker(this.url);
      worker.onmessage = (event: MessageEvent<LayoutReply>) => this.answer(event.data);
      // A worker refused (CSP) or broken reports an error event rather than throwing here.
      worker.onerror = (event) => {
        event.preventDefault();
        this.onMainThread();
      };
      this.worker = worker;
      // A first small layout right away, while the graph is still on its way: dagre's code is then compiled and warm
      // when the graph's layout arrives.
      worker.postMessage({ seq: 0, request: { ids: ['a', 'b', 'c'], pairs: [['a', 'b'], ['a', 'c']], quickOrder: true } } satisfies LayoutMessage);
    } catch {
      this.onMainThread();
    }
  }

  /** Whether layouts still go to a worker (false once it could not start or failed). */
  get inWorker(): boolean {
    return this.worker !== undefined;
  }

  centres(request: LayoutRequest): Promise<Float64Array> {
    if (!this.worker) return new Promise((resolve) => resolve(layoutCentres(request)));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { request, resolve, reject });
      this.worker!.postMessage({ seq, request } satisfies LayoutMessage);
    });
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = undefined;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = undefined;
    for (const p of this.pending.values()) p.reject(new Error('the page was left before the layout was done'));
    this.pending.clear();
  }

  private answer(reply: LayoutReply): void {
    const p = this.pending.get(reply.seq);
    if (!p) return;
    this.pending.delete(reply.seq);
    if (reply.centres) p.resolve(reply.centres);
    else p.reject(new Error(`the graph could not be laid out: ${reply.error ?? 'no reason given'}`));
  }

  private onMainThread(): void {
    this.worker?.terminate();
    this.worker = undefined;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) {
      try {
        p.resolve(layoutCentres(p.request));
      } catch (error) {
        p.reject(error as Error);
      }
    }
  }
}

/** A graph on its way to the canvas: what is drawn (lines per pair for large graphs) and its layout, once done. */
export interface Drawing {
  large: boolean;
  pairs: DrawnEdge[];
  layout: Promise<Layout>;
}

/** Starts laying a graph out (call it as soon as the graph is there: the layout runs while the page renders). */
export function startDrawing(nodes: readonly GraphNode[], edges: readonly GraphEdge[], layouts: LayoutWorker): Drawing {
  const large = nodes.length + edges.length > LARGE_GRAPH;
  const pairs = edgesByPair(edges);
  const request = layoutRequest(nodes, pairs, { quickOrder: large });
  return { large, pairs, layout: layouts.centres(request).then((centres) => layoutOf(request.ids, centres)) };
}
