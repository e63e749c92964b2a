/**
 * The graph engine's EventSource over the local store (JSONL files + the bun:sqlite index beside them).
 *
 * Every query is answered by the index (EventIndex.searchEvents: the selectors of kibana-plugin/common/graph/source.ts,
 * each through its own sqlite index, ordered and paged by (@timestamp, event.sequence, event.id)); only the lines it
 * names are read back from the JSONL files, by offset. Nothing loads the whole store.
 *
 * It opens the index read-only, so `provmon graph` can run beside a sensor that is writing into the same directory;
 * it never rotates or writes a JSONL file. The one exception: a directory whose index is missing or from another
 * provmon version (JSONL files copied from elsewhere, the seed's files, an upgrade), or damaged (the damaged file is
 * set aside, renamed with a timestamp), is indexed first, through LocalStore, which is the only writer of that format.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS, datasetName, datasetOf, type EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { emptyOverviewCounts, healthDrops, type OverviewCounts, type OverviewWindow } from '../../../kibana-plugin/server/overview-route.ts';
import type { EventQuery, EventSource } from '../../../kibana-plugin/common/graph/source.ts';
import { parseTimestamp } from '../../../kibana-plugin/common/graph/time.ts';
import { HOUR_MS, SCATTER_POINTS, flowRow, flowWindow, type FlowsAnswer, type FlowsRequest } from '../../../kibana-plugin/common/flows/answer.ts';
import { FlowSums, flowShare } from '../../../kibana-plugin/common/flows/flow-sums.ts';
import { flowPredicate, type FlowFilter } from '../../../kibana-plugin/common/flows/filter.ts';
import { FlowAccumulator } from '../../../kibana-plugin/common/flows/memory-flows.ts';
import { eventsSummary, withTarget, type EventsAnswer, type EventsQuery } from '../../../kibana-plugin/common/search/events.ts';
import { ProvmonError } from '../errors.ts';
import { EventIndex, INDEX_VERSION, IndexDamagedError, IndexVersionError, ROLLUP_MINUTE_MS, flowSpan, type EventHit } from '../output/local/event-index.ts';
import { INDEX_FILE, LocalStore, STREAMS } from '../output/local/local-store.ts';

export interface LocalSourceOptions {
  /** Told when the directory has to be indexed first (a sentence for stderr). */
  onNotice?: (message: string) => void;
}

export interface StoreInfo {
  events: number;
  /** earliest / latest @timestamp, ISO */
  from?: string;
  to?: string;
}

const decoder = new TextDecoder();

/** The later / earlier of two ISO times (exact, sub-millisecond digits included). */
const latest = (a: string, b: string) => (parseTimestamp(a) >= parseTimestamp(b) ? a : b);
const earliest = (a: string, b: string) => (parseTimestamp(a) <= parseTimestamp(b) ? a : b);

/** Health documents of a host read, newest first, to find one that counts losses. */
const HEALTH_LOOKBACK = 16;

/** Open window ends, as hours sqlite compares exactly (any flow's hour lies between). */
const MIN_HOUR = -(2 ** 40);
const MAX_HOUR = 2 ** 40;

export class LocalStoreSource implements EventSource {
  readonly dir: string;
  private readonly index: EventIndex;
  /** stream → fileId → path; refreshed when the sensor rotated a file under us. */
  private files = new Map<number, Map<number, string>>();
  /** Queries answered and events returned (tests and benches check the trace stayed incremental). */
  readonly counters = { queries: 0, returned: 0, stale: 0 };

  private constructor(dir: string, index: EventIndex) {
    this.dir = dir;
    this.index = index;
    this.refreshFiles();
  }

  /** Opens the store in `dir` for queries; indexes it first when it has JSONL files but no (current) index. */
  static open(dir: string, options: LocalSourceOptions = {}): LocalStoreSource {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ProvmonError(`no local store at ${dir}: the directory does not exist`, {
        hint: 'point --events-dir at the directory `provmon run` wrote to (it holds forensic-events.jsonl and events-index.sqlite)',
      });
    }
    try {
      accessSync(dir, constants.R_OK | constants.X_OK);
      if (existsSync(join(dir, INDEX_FILE))) accessSync(join(dir, INDEX_FILE), constants.R_OK);
    } catch {
      throw new ProvmonError(`cannot read the local store in ${dir}: permission denied`, {
        hint: 'the sensor runs as root and keeps its files private (mode 0600); read them as root (sudo provmon graph …)',
      });
    }
    const indexPath = join(dir, INDEX_FILE);
    const hasJsonl = readdirSync(dir).some((f) => STREAMS.some((s) => f.startsWith(`${s.base}.`) && f.endsWith('.jsonl')));
    let reason: string | undefined;
    if (!existsSync(indexPath)) reason = 'it has no index';
    else {
      try {
        return new LocalStoreSource(dir, new EventIndex(indexPath));
      } catch (error) {
        if (error instanceof IndexVersionError) reason = `its index has format version ${error.version}; this provmon uses ${INDEX_VERSION}`;
        else if (error instanceof IndexDamagedError) reason = `its index is damaged: ${error.reason}; it is set aside and rebuilt from the JSONL files`;
        else {
          throw new ProvmonError(`cannot open the index of the local store in ${dir}: ${(error as Error).message}`, {
            hint: `the index can be rebuilt from the JSONL files: move ${indexPath} away (and its -wal/-shm files) and run provmon graph again`,
            cause: error,
          });
        }
      }
    }
    if (!hasJsonl) {
      throw new ProvmonError(`no local store at ${dir}: no forensic-events.jsonl or index there`, {
        hint: 'point --events-dir at the directory `provmon run` wrote to, or capture first: sudo provmon run --events-dir <dir>',
      });
    }
    options.onNotice?.(`indexing the local store in ${dir} (${reason}); this happens once`);
    try {
      new LocalStore({ dir }).close();
    } catch (error) {
      // A sensor writing the directory holds it: it rebuilds the index itself; this reader cannot meanwhile.
      if (error instanceof ProvmonError) {
        throw new ProvmonError(`cannot index the local store in ${dir} (${reason}): ${error.message}`, {
          hint: 'the sensor writing there sets a damaged or older index aside and rebuilds it when it starts: restart it (or stop it), then run this again',
          exitCode: 1,
          cause: error,
        });
      }
      throw error;
    }
    return new LocalStoreSource(dir, new EventIndex(indexPath));
  }

  info(): StoreInfo {
    const events = this.index.count();
    const range = this.index.timeRange();
    return range ? { events, from: new Date(Math.floor(range.from)).toISOString(), to: new Date(Math.ceil(range.to)).toISOString() } : { events };
  }

  async fetch(q: EventQuery): Promise<EcsEvent[]> {
    return this.fetchSync(q);
  }

  fetchSync(q: EventQuery): EcsEvent[] {
    this.counters.queries++;
    const hits = this.index.searchEvents(q);
    const out = this.read(hits, true);
    this.counters.returned += out.length;
    return out;
  }

  /**
   * The events search counted and paged in the index: only the page's lines are read. Undefined for what the index
   * cannot express (free text): the caller reads the window instead (common/search/events.ts).
   */
  eventsAnswer(query: EventsQuery): EventsAnswer | undefined {
    const found = this.index.searchEventsPage(query.window, query.filter, query.sort, query.size, query.page * query.size);
    if (!found) return undefined;
    const { counts } = found;
    const events = this.read(found.hits, true).map(withTarget);
    return {
      total: counts.total,
      page: query.page,
      size: query.size,
      events,
      summary: eventsSummary(counts.actions, counts.processes, counts.failures, counts.hosts),
      scanned: events.length,
      truncated: false,
    };
  }

  /**
   * The flows answer from the index (no JSONL read). A window-only filter reads the pre-summed whole hours, the flows
   * of its two partial edge hours, and the scatter's and table's flows through their indexes; any other filter
   * aggregates the matching rows of the flow table with the same accumulator and predicate as reading the flow
   * documents, at most `maxScan` of them (then `truncated`).
   */
  flowsAnswer(filter: FlowFilter, request: FlowsRequest, maxScan: number): FlowsAnswer {
    const { from: _from, to: _to, ...narrowing } = filter;
    if (Object.keys(narrowing).length === 0) return this.summedFlowsAnswer(filter, request);
    const acc = new FlowAccumulator(filter, request);
    const keep = flowPredicate(filter);
    let scanned = 0;
    for (const text of this.index.flowDocs(filter)) {
      if (scanned === maxScan) return { ...acc.answer(), scan: { truncated: true, scanned } };
      scanned++;
      const doc = JSON.parse(text) as EcsEvent;
      if (keep(doc)) acc.add(doc);
    }
    return { ...acc.answer(), scan: { truncated: false, scanned } };
  }

  private summedFlowsAnswer(filter: FlowFilter, request: FlowsRequest): FlowsAnswer {
    const span = flowSpan(filter);
    const sums = new FlowSums();
    const addFlows = (lo: number, hi: number) => {
      for (const text of this.index.flowDocsBetween({ lo, hi })) sums.addFlow(flowShare(JSON.parse(text) as EcsEvent));
    };
    // Whole hours: every flow of [firstHour, lastHour] lies inside the span.
    const firstHour = Math.ceil(span.lo / HOUR_MS);
    const lastHour = Math.floor(span.hi / HOUR_MS) - 1;
    if (firstHour > lastHour) addFlows(span.lo, span.hi);
    else {
      // In time order: the left edge, the hours, the right edge (the first label added for a key wins).
      if (span.lo > -Infinity) addFlows(span.lo, firstHour * HOUR_MS);
      this.index.addFlowHours(sums, Math.max(firstHour, MIN_HOUR), Math.min(lastHour, MAX_HOUR));
      if (span.hi < Infinity) addFlows((lastHour + 1) * HOUR_MS, span.hi);
    }
    const summed = sums.answer(request);
    return {
      window: flowWindow(filter),
      ...summed,
      scatter: { points: this.index.flowScatter(span, summed.totals.flows), truncated: summed.totals.flows > SCATTER_POINTS },
      table: { sort: request.sort, rows: this.index.flowTable(span, summed.totals.flows, request.sort).map((text) => flowRow(JSON.parse(text) as EcsEvent)) },
      scan: { truncated: false, scanned: summed.totals.flows },
    };
  }

  /**
   * The overview's counts from the index: the window's events counted per dataset, action, process name and host
   * (`rollup` plus the partial edge minutes), and per host the lines of its first and last event and of its latest
   * health document (at most a few lines read per host).
   */
  overviewCounts(window: OverviewWindow): OverviewCounts {
    const c = emptyOverviewCounts();
    const datasets = DATASETS.map(datasetName);
    const health = datasetName('health');
    /** per host: the minutes of its first and last event, and of its latest health document */
    const minutes = new Map<string, { first: number; last: number; health?: number }>();
    for (const row of this.index.overviewCounts(window, datasets)) {
      const dataset = datasetOf(row.dataset);
      if (dataset) c.datasets[dataset] += row.n;
      c.actions.set(row.action, (c.actions.get(row.action) ?? 0) + row.n);
      if (row.pname) c.processes.set(row.pname, (c.processes.get(row.pname) ?? 0) + row.n);
      const h = c.hosts.get(row.hostId);
      if (h) h.events += row.n;
      else c.hosts.set(row.hostId, { id: row.hostId, name: '', events: row.n, last_event: '', drops: null });
      const m = minutes.get(row.hostId) ?? { first: row.firstMinute, last: row.lastMinute };
      m.first = Math.min(m.first, row.firstMinute);
      m.last = Math.max(m.last, row.lastMinute);
      if (row.dataset === health) m.health = Math.max(m.health ?? -Infinity, row.lastMinute);
      minutes.set(row.hostId, m);
      c.scanned += row.n;
    }
    // Each lookup inside the minute the counts point at (and the window): a row or a few, never the window's rows.
    const within = (minute: number, to = minute): OverviewWindow => ({
      from: latest(window.from, new Date(minute * ROLLUP_MINUTE_MS).toISOString()),
      to: earliest(window.to, `${new Date((to + 1) * ROLLUP_MINUTE_MS - 1).toISOString().slice(0, -1)}999999Z`),
    });
    for (const h of c.hosts.values()) {
      const m = minutes.get(h.id)!;
      const [first] = this.read(this.index.hostEvents(within(m.first), datasets, h.id, 'asc', 1), true);
      const [last] = this.read(this.index.hostEvents(within(m.last), datasets, h.id, 'desc', 1), true);
      h.name = first?.host.name as string;
      h.last_event = last?.['@timestamp'] ?? '';
      if (m.health === undefined) continue;
      // The newest health document that counts losses (a health document always should; older ones are the fallback).
      for (const span of [within(m.health), { from: window.from, to: within(m.health).to }]) {
        for (const doc of this.read(this.index.hostEvents(span, [health], h.id, 'desc', HEALTH_LOOKBACK), true)) {
          h.drops = healthDrops(doc);
          if (h.drops !== null) break;
        }
        if (h.drops !== null) break;
      }
    }
    return c;
  }

  /** The latest `limit` process starts (fork, exec, already_running), in time order. */
  lineageEvents(limit: number): EcsEvent[] {
    return this.read(this.index.lineage(limit), true);
  }

  close(): void {
    this.index.close();
  }

  private read(hits: EventHit[], retry: boolean): EcsEvent[] {
    const out: EcsEvent[] = [];
    const fds = new Map<string, number>();
    let buf = new Uint8Array(64 * 1024);
    let missed: EventHit[] | undefined;
    try {
      for (const hit of hits) {
        const path = this.files.get(hit.stream)?.get(hit.fileId);
        let doc: EcsEvent | undefined;
        if (path) {
          let fd = fds.get(path);
          if (fd === undefined) {
            try {
              fd = openSync(path, 'r');
            } catch {
              fd = -1;
            }
            fds.set(path, fd);
          }
          if (fd >= 0) {
            if (hit.length > buf.length) buf = new Uint8Array(hit.length * 2);
            const n = readSync(fd, buf, 0, hit.length, hit.offset);
            try {
              doc = JSON.parse(decoder.decode(buf.subarray(0, n))) as EcsEvent;
            } catch {
              doc = undefined;
            }
          }
        }
        // The line must be the indexed event: a file rotated (renamed) between the query and the read is not.
        if (doc && doc.event?.id === hit.eventId) out.push(doc);
        else (missed ??= []).push(hit);
      }
    } finally {
      for (const fd of fds.values()) if (fd >= 0) closeSync(fd);
    }
    if (!missed) return out;
    if (!retry) {
      this.counters.stale += missed.length;
      return out;
    }
    // Re-list the files (the sensor rotated one) and read the missed lines again, keeping the order.
    this.refreshFiles();
    const again = new Map(this.read(missed, false).map((d) => [d.event.id, d] as const));
    const byId = new Map(out.map((d) => [d.event.id, d] as const));
    return hits.map((h) => byId.get(h.eventId) ?? again.get(h.eventId)).filter((d): d is EcsEvent => d !== undefined);
  }

  /** The JsonlWriter's naming: rotated files `<base>.<id>.jsonl`, the live `<base>.jsonl` is the next id. */
  private refreshFiles(): void {
    const names = readdirSync(this.dir);
    this.files = new Map();
    for (const stream of STREAMS) {
      const pattern = new RegExp(`^${stream.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.jsonl$`);
      const byId = new Map<number, string>();
      let max = 0;
      for (const name of names) {
        const m = pattern.exec(name);
        if (!m) continue;
        const id = Number(m[1]);
        byId.set(id, join(this.dir, name));
        max = Math.max(max, id);
      }
      if (names.includes(`${stream.base}.jsonl`)) byId.set(max + 1, join(this.dir, `${stream.base}.jsonl`));
      this.files.set(stream.id, byId);
    }
  }
}
