/**
 * Records → events. The kernel writes one event as several records sharing `audit(time:serial)` (SYSCALL, EXECVE,
 * CWD, PATH…, PROCTITLE, then EOE), and events of different CPUs interleave. An event is complete at its EOE; one
 * without EOE (older kernels, user-space messages, a log cut mid-event) is closed when the log has moved on by
 * `windowMs`, when too many events are open, or at the end of the input. Memory is bounded by `maxOpen` events of at
 * most `maxRecords` records each; what a bound cut off is counted.
 */
import type { AuditRecord } from './record.ts';

export interface AuditEvent {
  timeMs: number;
  serial: number;
  node?: string;
  records: AuditRecord[];
  /** closed by its EOE record (otherwise by time, by the bound, or by the end of input) */
  ended: boolean;
}

export interface GroupStats {
  events: number;
  /** events closed without EOE */
  without_eoe: number;
  /** events closed early because maxOpen events were open at once */
  closed_by_bound: number;
  /** records dropped because their event already held maxRecords */
  records_over_bound: number;
  /** records for an event that had already been closed (a late record): it becomes its own, partial event */
  late_records: number;
}

export interface GroupOptions {
  windowMs?: number;
  maxOpen?: number;
  maxRecords?: number;
}

/** Types the user-space tools write as one-record events: there is nothing to wait for. */
const STANDALONE = /^(USER_|CRED_|SERVICE_|DAEMON_|ANOM_LOGIN|LOGIN$|SYSTEM_|VIRT_|ACCT_|GRP_|ADD_|DEL_|CHGRP_|CHUSER_|ROLE_|LABEL_|AUDIT_)/;

export class EventGrouper {
  readonly stats: GroupStats = { events: 0, without_eoe: 0, closed_by_bound: 0, records_over_bound: 0, late_records: 0 };
  private readonly open = new Map<string, AuditEvent>();
  /** keys of recently closed events, to tell a late record from a new event: a set bounded by a ring of its keys */
  private readonly closed = new Set<string>();
  private readonly closedRing: string[] = [];
  private closedHead = 0;
  private readonly windowMs: number;
  private readonly maxOpen: number;
  private readonly maxRecords: number;
  private newestMs = 0;
  /** the open event the last record went to, and its key */
  private last: AuditEvent | undefined;
  private lastKey = '';
  /** record type → whether it is a one-record event (the types of a log are few; bounded all the same) */
  private readonly standaloneTypes = new Map<string, boolean>();

  constructor(
    private readonly onEvent: (event: AuditEvent) => void,
    options: GroupOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 2000;
    this.maxOpen = options.maxOpen ?? 8192;
    this.maxRecords = options.maxRecords ?? 2048;
  }

  get openEvents(): number {
    return this.open.size;
  }

  add(record: AuditRecord): void {
    // An event's records come one after another: the open event of the record before is found without a key.
    const last = this.last;
    let key: string;
    let event: AuditEvent | undefined;
    if (last && last.serial === record.serial && last.timeMs === record.timeMs && last.node === record.node) {
      key = this.lastKey;
      event = last;
    } else {
      key = `${record.node ?? ''}|${record.timeMs}|${record.serial}`;
      event = this.open.get(key);
    }
    if (record.type === 'EOE') {
      if (event) this.close(key, event, true);
      return;
    }
    if (!event) {
      if (this.closed.has(key)) this.stats.late_records += 1;
      event = { timeMs: record.timeMs, serial: record.serial, records: [], ended: false };
      if (record.node !== undefined) event.node = record.node;
      if (this.standalone(record.type)) {
        event.records.push(record);
        this.emit(key, event);
        return;
      }
      if (this.open.size >= this.maxOpen) {
        const [oldKey, oldest] = this.open.entries().next().value!;
        this.stats.closed_by_bound += 1;
        this.close(oldKey, oldest, false);
      }
      this.open.set(key, event);
    }
    this.last = event;
    this.lastKey = key;
    if (event.records.length >= this.maxRecords) this.stats.records_over_bound += 1;
    else event.records.push(record);
    if (record.timeMs > this.newestMs) {
      this.newestMs = record.timeMs;
      this.expire(record.timeMs - this.windowMs);
    }
  }

  /** Closes every open event (end of input). */
  finish(): void {
    for (const [key, event] of [...this.open]) this.close(key, event, false);
  }

  private expire(beforeMs: number): void {
    // Open events are in arrival order, which is nearly time order: stop at the first recent one (cheap per record).
    for (const [key, event] of this.open) {
      if (event.timeMs >= beforeMs) break;
      this.close(key, event, false);
    }
  }

  private standalone(type: string): boolean {
    let yes = this.standaloneTypes.get(type);
    if (yes === undefined) {
      yes = STANDALONE.test(type);
      if (this.standaloneTypes.size < 1024) this.standaloneTypes.set(type, yes);
    }
    return yes;
  }

  private close(key: string, event: AuditEvent, ended: boolean): void {
    this.open.delete(key);
    if (event === this.last) this.last = undefined;
    event.ended = ended;
    if (!ended) this.stats.without_eoe += 1;
    this.emit(key, event);
  }

  private emit(key: string, event: AuditEvent): void {
    // a ring, not the set's own order: deleting from the front of a Set leaves holes its iterator must skip
    if (this.closedRing.length < this.maxOpen) this.closedRing.push(key);
    else {
      this.closed.delete(this.closedRing[this.closedHead]!);
      this.closedRing[this.closedHead] = key;
      this.closedHead = (this.closedHead + 1) % this.maxOpen;
    }
    this.closed.add(key);
    this.stats.events += 1;
    this.onEvent(event);
  }
}
