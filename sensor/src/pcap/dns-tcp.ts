/**
 * DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message is preceded by a 2-byte length and may be
 * split across segments or share one with other messages. One DnsTcpStream per direction of a
 * flow reassembles in sequence order; overlaps (retransmissions) are trimmed, a gap (a segment we
 * never saw) drops the partial message and restarts at the next segment. Buffers are bounded per
 * stream and across all streams, so a flood of half-sent messages cannot grow memory without limit.
 */

/** Largest buffered bytes per stream: one whole message plus the start of the next. */
const MAX_STREAM_BYTES = 2 * (65535 + 2);

export class DnsTcpStats {
  messages = 0;
  /** a segment starting after the expected sequence number: the partial message was dropped */
  gaps = 0;
  /** payload cut by the snap length: cannot be reassembled */
  snapped = 0;
  /** the global buffer budget was exhausted: the partial message was dropped */
  over_budget = 0;
}

export class DnsTcpStream {
  nextSeq = -1;
  buf: Uint8Array | null = null;
  len = 0;
}

/** Per-flow state: one stream per direction. */
export class DnsTcpFlowState {
  readonly toResponder = new DnsTcpStream();
  readonly toInitiator = new DnsTcpStream();
}

export class DnsTcpReassembler {
  readonly stats = new DnsTcpStats();
  /** bytes held in all stream buffers */
  private held = 0;

  constructor(private readonly budgetBytes = 16 * 1024 * 1024) {}

  /**
   * Add one segment's payload. `onMessage` gets each complete DNS message as (buffer, offset,
   * length); the buffer is reused afterwards.
   */
  segment(
    s: DnsTcpStream,
    seq: number,
    syn: boolean,
    data: Uint8Array,
    off: number,
    len: number,
    captured: number,
    onMessage: (buf: Uint8Array, off: number, len: number) => void,
  ): void {
    if (syn) {
      // only the first SYN anchors the stream: a repeated one is a retransmission (or a duplicate
      // from a second capture interface); a reused port pair gets a new flow and a new stream
      if (s.nextSeq < 0) s.nextSeq = (seq + 1) >>> 0;
      seq = (seq + 1) >>> 0;
    }
    if (len === 0) return;
    if (captured < len) {
      this.stats.snapped++;
      this.reset(s);
      s.nextSeq = (seq + len) >>> 0;
      return;
    }
    if (s.nextSeq < 0) s.nextSeq = seq; // joined mid-stream: assume a message starts here
    const diff = (seq - s.nextSeq) | 0;
    let skip = 0;
    if (diff > 0) {
      this.stats.gaps++;
      this.reset(s);
    } else if (diff < 0) {
      skip = -diff;
      if (skip >= len) return; // a retransmission of bytes we already have
    }
    const n = len - skip;
    s.nextSeq = (seq + len) >>> 0;
    if (s.len === 0) {
      // fast path: nothing buffered, so whole messages are parsed straight from the packet and
      // only a trailing partial message is copied
      let p = off + skip;
      const end = off + len;
      while (end - p >= 2) {
        const mlen = (data[p]! << 8) | data[p + 1]!;
        if (end - p < 2 + mlen) break;
        this.stats.messages++;
        onMessage(data, p + 2, mlen);
        p += 2 + mlen;
      }
      if (p === end) return;
      return this.buffer(s, data, p, end - p);
    }
    this.buffer(s, data, off + skip, n);
    let p = 0;
    while (s.len - p >= 2) {
      const mlen = (s.buf![p]! << 8) | s.buf![p + 1]!;
      if (s.len - p < 2 + mlen) break;
      this.stats.messages++;
      onMessage(s.buf!, p + 2, mlen);
      p += 2 + mlen;
    }
    if (p > 0) {
      s.buf!.copyWithin(0, p, s.len);
      s.len -= p;
      this.held -= p;
    }
  }

  /** Append bytes to the stream's buffer, within the per-stream and global bounds. */
  private buffer(s: DnsTcpStream, data: Uint8Array, from: number, n: number): void {
    if (s.len + n > MAX_STREAM_BYTES || this.held + n > this.budgetBytes) {
      this.stats.over_budget++;
      this.reset(s);
      return;
    }
    this.ensureCapacity(s, s.len + n);
    s.buf!.set(data.subarray(from, from + n), s.len);
    s.len += n;
    this.held += n;
  }

  private ensureCapacity(s: DnsTcpStream, need: number): void {
    if (s.buf !== null && s.buf.length >= need) return;
    let size = s.buf?.length ?? 512;
    while (size < need) size *= 2;
    const bigger = new Uint8Array(Math.min(size, MAX_STREAM_BYTES));
    if (s.buf !== null) bigger.set(s.buf.subarray(0, s.len));
    s.buf = bigger;
  }

  private reset(s: DnsTcpStream): void {
    this.held -= s.len;
    s.len = 0;
  }

  /** Release a flow's buffers (the flow ended). */
  release(state: DnsTcpFlowState): void {
    this.reset(state.toResponder);
    this.reset(state.toInitiator);
    state.toResponder.buf = null;
    state.toInitiator.buf = null;
  }

  get heldBytes(): number {
    return this.held;
  }
}
