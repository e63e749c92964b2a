/**
 * Fault injection: damaged capture files through the real `provmon run --pcap-file` (issue 13 item 10). The rule:
 * every readable packet is processed and written; every skipped block and undecodable packet is counted by reason
 * in the final summary; a damaged file exits 65 (EX_DATAERR), not 0; an unknown link type gets one warning.
 * Also: an output that has to drop documents (Elasticsearch unreachable, spool full) says so in the final summary.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProvmon, type LogRecord } from '../../../../test/support/provmon-process.ts';
import { ethernet, ipv4, udp } from '../../pcap/testdata/build-packets.ts';
import { writePcap, writePcapng, type OutPacket } from '../../pcap/testdata/write-capture.ts';
import { EXIT_DAMAGED_INPUT, type CaptureFileSummary } from '../sensor.ts';

setDefaultTimeout(60_000);
const dir = mkdtempSync(join(tmpdir(), 'provmon-damaged-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One UDP packet per flow: 10.0.0.1:(sport) → 10.0.0.2:53xx, a second apart. */
function udpPackets(count: number, firstPort = 20_000): OutPacket[] {
  return Array.from({ length: count }, (_, i) => ({
    data: ethernet(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: udp({ sport: firstPort + i, dport: 5300, payload: new Uint8Array(8) }) })),
    tsSec: 1_700_000_000 + i,
    tsNsec: 0,
  }));
}

/** Offsets of the enhanced packet blocks (type 6) of a little-endian pcapng. */
function epbOffsets(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const out: number[] = [];
  for (let p = 0; p < bytes.length; p += v.getUint32(p + 4, true)) if (v.getUint32(p, true) === 6) out.push(p);
  return out;
}

async function runFile(name: string, bytes: Uint8Array, extra: string[] = []): Promise<{ code: number; summary: LogRecord; warnings: LogRecord[]; events: string; stderr: string }> {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const events = join(dir, `${name}-events`);
  const p = spawnProvmon(['run', '--no-ebpf', '--pcap-file', file, '--events-dir', events, '--output-dir', join(dir, `${name}-out`), ...extra]);
  const code = await p.exited;
  const summary = p.summary();
  if (!summary) throw new Error(`no final summary; stderr:\n${p.rawLines.join('\n')}`);
  return { code, summary, warnings: p.records.filter((r) => r.level === 40), events, stderr: p.rawLines.join('\n') };
}

const flowCount = (events: string): number => readFileSync(join(events, 'pcap-flows.jsonl'), 'utf8').split('\n').filter(Boolean).length;

describe('damaged capture files', () => {
  test('pcapng blocks skipped for a bad captured length or an unknown interface are counted, and the run exits 65', async () => {
    const bytes = writePcapng([{ linkType: 1 }], udpPackets(4));
    const v = new DataView(bytes.buffer);
    const [, second, third] = epbOffsets(bytes);
    v.setUint32(second! + 8, 7, true); // interface 7: no IDB declares it
    v.setUint32(third! + 20, 100_000, true); // captured length beyond the block
    const r = await runFile('skipped-blocks.pcapng', bytes);
    expect(r.code).toBe(EXIT_DAMAGED_INPUT);
    const pcap = r.summary.pcapFile as CaptureFileSummary;
    expect(pcap.malformedBy).toEqual({ unknown_interface: 1, bad_packet_length: 1 });
    expect(pcap.malformed).toBe(2);
    expect(pcap.damaged).toBe(true);
    expect(pcap.packets).toBe(2);
    expect(flowCount(r.events)).toBe(2); // the two intact packets are two flows, written
    expect(r.stderr).toContain('is damaged');
  });

  test('a capture cut in the middle keeps every packet before the cut and exits 65', async () => {
    const whole = writePcap(udpPackets(10), { linkType: 1 });
    const cut = whole.subarray(0, whole.length - 20); // inside the last packet
    const r = await runFile('cut.pcap', cut);
    expect(r.code).toBe(EXIT_DAMAGED_INPUT);
    const pcap = r.summary.pcapFile as CaptureFileSummary;
    expect(pcap.malformedBy).toEqual({ truncated_record: 1 });
    expect(pcap.error).toContain('is truncated');
    expect(flowCount(r.events)).toBe(9);
  });

  test('an intact capture exits 0 with nothing counted as malformed', async () => {
    const r = await runFile('intact.pcap', writePcap(udpPackets(3), { linkType: 1 }));
    expect(r.code).toBe(0);
    expect((r.summary.pcapFile as CaptureFileSummary).malformed).toBe(0);
    expect((r.summary.pcapFile as CaptureFileSummary).damaged).toBe(false);
  });

  test('a link type the decoder does not know: packets counted, one warning naming it (was silently 0 events)', async () => {
    const r = await runFile('user0.pcap', writePcap(udpPackets(1000), { linkType: 147 }));
    expect(r.code).toBe(0);
    const pcap = r.summary.pcapFile as CaptureFileSummary;
    expect(pcap.packets).toBe(1000);
    expect(pcap.unsupportedLinkType).toBe(1000);
    const linkWarnings = r.warnings.filter((w) => w.unsupported_link_type !== undefined);
    expect(linkWarnings).toHaveLength(1);
    expect(linkWarnings[0]!.link_types).toEqual(['LINKTYPE_147']);
  });
});

describe('output drops reach the final summary', () => {
  test('Elasticsearch unreachable and the spool full: the dropped documents are counted in the summary', async () => {
    // Every flow is its own document (~1 KB); 6,000 of them overflow a 1 MiB spool.
    const r = await runFile('many-flows.pcap', writePcap(udpPackets(6_000, 1_024), { linkType: 1 }), [
      '--es',
      'http://127.0.0.1:9',
      '--set',
      'es_config.spool_max_bytes=1048576',
      '--set',
      'es_config.spool_when_full=drop_newest',
      '--set',
      'pcap_config.file_logging_enabled=false',
    ]);
    expect(r.code).toBe(0);
    const output = r.summary.output as { written: number; dropped: number; spooled: number; indexed: number };
    expect(output.written).toBe((r.summary.events as { flow: number }).flow);
    expect(output.dropped).toBeGreaterThan(0);
    expect(output.indexed).toBe(0);
    // every document is either on disk in the spool or counted as dropped: none vanishes uncounted
    expect(output.spooled + output.dropped).toBe(output.written);
  });
});
