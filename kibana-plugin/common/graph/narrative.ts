/**
 * The attack narrative: the engine's deterministic summary, and optionally a model's telling of the same graph.
 * Pure TypeScript on the global fetch, so the CLI, the plugin's server routes and the browser can all call it.
 *
 * What leaves the host: node labels, executables, paths, endpoints, times, edge kinds and counts, rule findings
 * (rule, severity, technique, reason) and the summary lines. Never file contents (the graph holds none) and never
 * argument values that look like secrets: maskSecrets() replaces them before anything is sent.
 */
import type { GraphEdge, GraphNode, ProvenanceGraph } from './model.ts';

export interface NarrativeEndpoint {
  /** base URL, e.g. http://127.0.0.1:11434 (Ollama) or https://api.example/v1 (OpenAI-compatible); '' = none */
  url: string;
  api: 'ollama' | 'openai';
  model: string;
  timeoutMs: number;
  /** bearer token for OpenAI-compatible endpoints; never logged */
  apiKey?: string;
}

export interface Narrative {
  /** the engine's summary, one line per step: always present */
  summary: string[];
  /** the model's text, when an endpoint answered */
  text?: string;
  source: 'model' | 'summary';
  /** why there is no model text: not configured, or what failed */
  reason?: string;
  model?: string;
}

interface FetchAnswer {
  ok: boolean;
  status: number;
  body?: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}
type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<FetchAnswer>;

/** An answer is read up to this size: an endpoint that streams more is refused, not buffered. */
export const MAX_ANSWER_BYTES = 1 << 20;

const SECRET_FLAG = /^(--?(?:pass(?:word)?|passwd|pwd|token|secret|api[-_]?key|key|auth|authorization|credentials?|cookie)(?:=|$))/i;
const SECRET_INLINE = /((?:pass(?:word)?|passwd|pwd|token|secret|api[-_]?key|auth|sig|signature|access[-_]?key)=)[^&\s]+/gi;
/** A secret flag and its value inside one argument, as in `sh -c "tool --password x"`. */
const SECRET_FLAG_INSIDE = /((?:^|\s)--?(?:pass(?:word)?|passwd|pwd|token|secret|api[-_]?key|key|auth|authorization|credentials?|cookie)(?:\s+|=))(?!-)\S+/gi;

/** Arguments with anything that may be a secret masked: values of --password-like flags, URL userinfo, bearer tokens, long opaque strings. */
export function maskSecrets(args: readonly string[]): string[] {
  const out: string[] = [];
  let maskNext = false;
  for (const arg of args) {
    if (maskNext) {
      out.push('***');
      maskNext = false;
      continue;
    }
    const flag = SECRET_FLAG.exec(arg);
    if (flag) {
      if (arg.includes('=')) out.push(`${arg.slice(0, arg.indexOf('=') + 1)}***`);
      else {
        out.push(arg);
        maskNext = true;
      }
      continue;
    }
    if (/^-p\S+$/.test(arg)) {
      out.push('-p***'); // mysql -pSECRET
      continue;
    }
    let v = arg.replace(/\/\/[^/@\s]+@/g, '//***@').replace(SECRET_INLINE, '$1***').replace(SECRET_FLAG_INSIDE, '$1***');
    v = v.replace(/(^|\s)-p(?!\s)\S+/g, '$1-p***');
    v = v.replace(/\b(Bearer|Basic|Token)\s+\S+/gi, '$1 ***');
    v = v.replace(/[A-Za-z0-9+/_=-]{32,}/g, '***');
    out.push(v);
  }
  return out;
}

function nodeForPrompt(n: GraphNode): Record<string, unknown> {
  const o: Record<string, unknown> = { id: n.id, kind: n.kind };
  if (n.kind === 'process') {
    if (n.executable) o.executable = n.executable;
    if (n.name) o.name = n.name;
    if (n.args) o.args = maskSecrets(n.args).slice(0, 16);
    if (n.pid !== undefined) o.pid = n.pid;
    if (n.start) o.start = n.start;
  } else if (n.kind === 'file') o.path = n.summary ? `${n.summary.class} (${n.summary.members} files)` : n.path;
  else o.endpoint = n.summary ? `${n.summary.class} (${n.summary.members} endpoints)` : `${n.ip ?? ''}${n.port !== undefined ? `:${n.port}` : ''}${n.domain ? ` (${n.domain})` : ''}`;
  if (n.flags?.length) o.findings = n.flags.map((f) => ({ rule: f.rule, severity: f.severity, technique: f.technique ?? f.tactic, reason: f.reason }));
  if (n.poi) o.point_of_interest = true;
  if (n.attack_path) o.attack_path = true;
  return o;
}

function edgeForPrompt(e: GraphEdge): Record<string, unknown> {
  const o: Record<string, unknown> = { kind: e.kind, from: e.source, to: e.target, first: e.first, count: e.count };
  if (e.bytes !== undefined) o.bytes = e.bytes;
  if (e.flags?.length) o.findings = e.flags.map((f) => ({ rule: f.rule, technique: f.technique ?? f.tactic, reason: f.reason }));
  if (e.attack_path) o.attack_path = true;
  return o;
}

/** The messages sent to a model: instructions, then the reduced graph as JSON (bounded: the first 300 nodes and 600 edges). */
export function narrativeMessages(graph: ProvenanceGraph): { role: 'system' | 'user'; content: string }[] {
  const payload = {
    point_of_interest: graph.poi,
    summary: graph.summary.map((l) => `${l.at} ${l.text}${l.techniques?.length ? ` [${l.techniques.join(', ')}]` : ''}`),
    nodes: graph.nodes.slice(0, 300).map(nodeForPrompt),
    edges: graph.edges.slice(0, 600).map(edgeForPrompt),
    truncated: graph.nodes.length > 300 || graph.edges.length > 600,
  };
  return [
    {
      role: 'system',
      content:
        'You are a security analyst. Tell what happened on this host as a short incident narrative (at most 12 sentences), ' +
        'in time order, using only the provenance graph given: processes, files, endpoints and the findings of detection rules ' +
        '(with MITRE ATT&CK technique ids). Say what is uncertain. Do not invent facts that are not in the graph. Values shown as *** were masked.',
    },
    { role: 'user', content: JSON.stringify(payload) },
  ];
}

export function deterministicSummary(graph: Pick<ProvenanceGraph, 'summary'>): string[] {
  return graph.summary.map((l) => `${l.at}  ${l.text}${l.techniques?.length ? `  [${l.techniques.join(', ')}]` : ''}`);
}

function endpointUrl(e: NarrativeEndpoint): string {
  const base = e.url.replace(/\/+$/, '');
  if (e.api === 'ollama') return /\/api\/chat$/.test(base) ? base : `${base}/api/chat`;
  if (/\/chat\/completions$/.test(base)) return base;
  return /\/v1$/.test(base) ? `${base}/chat/completions` : `${base}/v1/chat/completions`;
}

/** The endpoint as it may be shown (reasons reach logs and browsers): without user info. */
export function shownUrl(url: string): string {
  return url.replace(/\/\/[^/@\s]+@/, '//');
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

class AnswerTooLarge extends Error {}

/** The answer's text, refused beyond MAX_ANSWER_BYTES (read from the stream when there is one). */
async function boundedText(res: FetchAnswer): Promise<string> {
  if (!res.body) {
    const text = await res.text();
    if (text.length > MAX_ANSWER_BYTES) throw new AnswerTooLarge();
    return text;
  }
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLarge();
    }
    parts.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * The narrative of a graph: the summary always; the model's text when an endpoint is configured and answers in
 * time. Never throws: a failure is the reason the summary stands alone. A reason names the endpoint without its
 * user info and never carries the API key, even when the endpoint echoes it back.
 */
export async function narrate(graph: ProvenanceGraph, endpoint: NarrativeEndpoint | undefined, fetchImpl: FetchLike = globalThis.fetch as unknown as FetchLike): Promise<Narrative> {
  const summary = deterministicSummary(graph);
  if (!endpoint?.url) return { summary, source: 'summary', reason: 'no narrative endpoint configured (narrative.url)' };
  if (!endpoint.model) return { summary, source: 'summary', reason: 'no model configured (narrative.model)' };
  const messages = narrativeMessages(graph);
  const body = endpoint.api === 'ollama' ? { model: endpoint.model, messages, stream: false, options: { temperature: 0 } } : { model: endpoint.model, messages, temperature: 0 };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), endpoint.timeoutMs);
  const where = endpointUrl(endpoint);
  const shown = shownUrl(where);
  const failed = (why: string): Narrative => ({ summary, source: 'summary', reason: endpoint.apiKey ? why.split(endpoint.apiKey).join('***') : why, model: endpoint.model });
  try {
    const res = await fetchImpl(where, { method: 'POST', headers, body: JSON.stringify(body), signal: ac.signal });
    const raw = await boundedText(res);
    if (!res.ok) return failed(`${shown} answered HTTP ${res.status}: ${raw.slice(0, 200)}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return failed(`${shown} did not answer JSON`);
    }
    const text = endpoint.api === 'ollama' ? (parsed as { message?: { content?: unknown } }).message?.content : (parsed as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
    if (typeof text !== 'string' || text.trim() === '') {
      return failed(`${shown} answered without ${endpoint.api === 'ollama' ? 'message.content' : 'choices[0].message.content'}`);
    }
    return { summary, text: text.trim(), source: 'model', model: endpoint.model };
  } catch (error) {
    if (error instanceof AnswerTooLarge) return failed(`${shown} answered more than ${MAX_ANSWER_BYTES} bytes`);
    return failed(`${shown}: ${ac.signal.aborted ? `timed out after ${seconds(endpoint.timeoutMs)}` : shownUrl((error as Error).message)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The narrative as text for a terminal: the summary first, then the model's telling or why there is none. */
export function formatNarrative(n: Narrative): string {
  const out = ['Summary (deterministic, from the graph):', ...(n.summary.length ? n.summary.map((l) => `  ${l}`) : ['  (no steps)'])];
  if (n.text) out.push('', `Narrative (model ${n.model ?? '?'}; generated, check it against the summary):`, ...n.text.split('\n').map((l) => `  ${l}`));
  else out.push('', `Narrative: none (${n.reason ?? 'no endpoint'}); the summary above is the account.`);
  return `${out.join('\n')}\n`;
}
