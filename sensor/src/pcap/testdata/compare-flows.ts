/**
 * Compare provmon flow reports with tshark on the same capture. Shared by the pure tests (committed
 * fixtures) and the net tests (captures made during the test).
 */
import { expect } from 'bun:test';
import type { FlowReport } from '../flows.ts';
import { tsharkConversations, tsharkFields, tsharkStreamTotals } from './tshark.ts';

export interface FlowSummary {
  proto: string;
  src: string;
  dst: string;
  srcPackets: number;
  srcBytes: number;
  dstPackets: number;
  dstBytes: number;
  communityId: string;
  domains: { src?: string; dst?: string };
}

/** Fold a flow's reports (deltas) into one record per flow id. */
export function summarise(reports: FlowReport[]): FlowSummary[] {
  const byId = new Map<string, FlowSummary>();
  for (const r of reports) {
    let s = byId.get(r.flowId);
    if (!s) {
      const ep = (ip: string, port?: number) => (port === undefined ? ip : `${ip}:${port}`);
      s = { proto: r.transport, src: ep(r.srcIp, r.srcPort), dst: ep(r.dstIp, r.dstPort), srcPackets: 0, srcBytes: 0, dstPackets: 0, dstBytes: 0, communityId: r.communityId, domains: {} };
      byId.set(r.flowId, s);
    }
    s.srcPackets += r.delta.src.packets;
    s.srcBytes += r.delta.src.bytes;
    s.dstPackets += r.delta.dst.packets;
    s.dstBytes += r.delta.dst.bytes;
    if (r.srcDomain) s.domains.src = r.srcDomain;
    if (r.dstDomain) s.domains.dst = r.dstDomain;
  }
  return [...byId.values()];
}

/** Direction-free key of a conversation. */
function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/**
 * Every TCP/UDP conversation tshark lists must appear as exactly one flow with the same endpoints
 * and the same packet and byte counts per direction, and no flow may be extra; Community IDs must
 * match tshark's. Returns the number of conversations checked.
 */
export function expectFlowsMatchTshark(file: string, flows: FlowSummary[]): number {
  let checked = 0;
  const communityByStream = new Map<string, string>();
  for (const proto of ['tcp', 'udp'] as const) {
    for (const [stream, cid] of tsharkFields(file, [`${proto}.stream`, 'communityid'], `${proto} && !icmp && !icmpv6`, ['--enable-protocol', 'communityid'])) {
      communityByStream.set(`${proto}${stream}`, cid!);
    }
  }
  for (const proto of ['tcp', 'udp'] as const) {
    const ours = new Map<string, FlowSummary[]>();
    for (const f of flows.filter((x) => x.proto === proto)) {
      const k = pairKey(f.src, f.dst);
      ours.set(k, [...(ours.get(k) ?? []), f]);
    }
    const conversations = tsharkConversations(file, proto);
    const streams = tsharkStreamTotals(file, proto);
    expect(conversations.length).toBe(streams.length);
    expect(flows.filter((x) => x.proto === proto).length).toBe(conversations.length);
    for (const st of streams) {
      const candidates = ours.get(pairKey(st.a, st.b)) ?? [];
      expect(candidates.length, `${proto} ${st.a} <-> ${st.b} missing from provmon flows`).toBeGreaterThan(0);
      // with port reuse several flows share endpoints: match on exact counts
      const match = candidates.find((f) => {
        const ab = f.src === st.a ? [f.srcPackets, f.srcBytes, f.dstPackets, f.dstBytes] : [f.dstPackets, f.dstBytes, f.srcPackets, f.srcBytes];
        return ab[0] === st.framesAB && ab[1] === st.bytesAB && ab[2] === st.framesBA && ab[3] === st.bytesBA;
      });
      expect(match, `${proto} ${st.a} <-> ${st.b}: tshark ${st.framesAB}/${st.bytesAB} -> , ${st.framesBA}/${st.bytesBA} <-; provmon ${JSON.stringify(candidates)}`).toBeDefined();
      expect(match!.communityId).toBe(communityByStream.get(`${proto}${st.stream}`)!);
      checked++;
    }
    // the conv table (frames exact, bytes exact below 10 kB) agrees too
    for (const c of conversations) {
      const candidates = ours.get(pairKey(c.a, c.b)) ?? [];
      const ok = candidates.some((f) => {
        const [fab, bab, fba, bba] = f.src === c.a ? [f.srcPackets, f.srcBytes, f.dstPackets, f.dstBytes] : [f.dstPackets, f.dstBytes, f.srcPackets, f.srcBytes];
        // "49 kB" may stand for anything within one unit
        const close = (ours: number, theirs: number) => Math.abs(ours - theirs) < c.bytesUnit;
        return fab === c.framesAB && fba === c.framesBA && close(bab, c.bytesAB) && close(bba, c.bytesBA);
      });
      expect(ok, `conv,${proto} row ${c.a} <-> ${c.b} (${c.framesAB}/${c.framesBA} frames) has no matching provmon flow`).toBe(true);
    }
  }
  return checked;
}
