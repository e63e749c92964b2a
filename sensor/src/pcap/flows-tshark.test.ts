/**
 * Flows from the committed real-traffic captures against tshark: every TCP/UDP conversation with
 * the same endpoints, packets and bytes per direction, and the same Community ID.
 */
import { expect, test } from 'bun:test';
import { join } from 'node:path';
import { readCaptureFile } from './capture-file.ts';
import { DecodeStats } from './decode-stats.ts';
import { DecodedPacket, decodePacket } from './decode.ts';
import { type FlowReport, FlowTable } from './flows.ts';
import { expectFlowsMatchTshark, summarise } from './testdata/compare-flows.ts';
import { tsharkFields } from './testdata/tshark.ts';

function flowsOf(file: string): FlowReport[] {
  const reports: FlowReport[] = [];
  const table = new FlowTable({ onReport: (r) => reports.push(r) });
  const out = new DecodedPacket();
  const stats = new DecodeStats();
  readCaptureFile(file, (rec) => {
    if (decodePacket(rec, out, stats)) table.update(out);
  });
  table.flushAll();
  expect(stats.malformed.total()).toBe(0);
  return reports;
}

for (const name of ['lo.pcapng', 'any-sll.pcap', 'multi-if.pcapng']) {
  test(`${name}: flows equal tshark conversations`, () => {
    const file = join(import.meta.dir, 'testdata', name);
    const checked = expectFlowsMatchTshark(file, summarise(flowsOf(file)));
    expect(checked).toBeGreaterThanOrEqual(15);
  }, 60_000);
}

test('ICMP and ICMPv6 flows carry the Community ID tshark computes for their packets', () => {
  const file = join(import.meta.dir, 'testdata', 'lo.pcapng');
  const ours = new Set(flowsOf(file).filter((r) => r.transport === 'icmp' || r.transport === 'ipv6-icmp').map((r) => r.communityId));
  const theirs = new Set(tsharkFields(file, ['communityid'], 'icmp || icmpv6', ['--enable-protocol', 'communityid']).map((r) => r[0]!));
  expect(ours.size).toBeGreaterThanOrEqual(4); // echo v4, echo v6, unreachable v4, unreachable v6
  expect(ours).toEqual(theirs);
});
