/**
 * The entry of the layout Web Worker (built into a string of its own and started from a blob URL by
 * layout-client.ts): dagre runs here while the page's main thread renders the tables, so the two overlap.
 * This file runs only inside the worker; nothing imports it but the build.
 */
import { layoutCentres } from './graph-layout.ts';
import type { LayoutMessage, LayoutReply } from './layout-client.ts';

self.onmessage = (event: MessageEvent<LayoutMessage>) => {
  const { seq, request } = event.data;
  let reply: LayoutReply;
  try {
    reply = { seq, centres: layoutCentres(request) };
  } catch (error) {
    reply = { seq, error: (error as Error).message ?? String(error) };
  }
  self.postMessage(reply, { transfer: reply.centres ? [reply.centres.buffer] : [] });
};
