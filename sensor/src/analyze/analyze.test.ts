import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { debianCurl, rhel7Files } from '../audit/testdata/samples.ts';
import { ProvmonError } from '../errors.ts';
import type { EventSink } from '../output/sink.ts';
import { analyzeCase, offlineHostId, sniffInput } from './analyze.ts';

const dir = mkdtempSync(join(tmpdir(), 'provmon-analyze-unit-'));
const pcapng = resolve(import.meta.dir, '../pcap/testdata/lo.pcapng');
const audit = join(dir, 'audit.log');
writeFileSync(audit, `${debianCurl().join('\n')}\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class MemorySink implements EventSink {
  readonly name = 'memory';
  readonly docs: EcsEvent[] = [];
  write(doc: EcsEvent): void {
    this.docs.push(doc);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats(): Record<string, number> {
    return { written: this.docs.length };
  }
}

async function rejects(o: Parameters<typeof analyzeCase>[0], message: RegExp): Promise<void> {
  const sink = o.sink as MemorySink;
  try {
    await analyzeCase(o);
    throw new Error('should have failed');
  } catch (e) {
    expect(e).toBeInstanceOf(ProvmonError);
    expect((e as ProvmonError).message).toMatch(message);
    expect((e as ProvmonError).exitCode).toBe(2);
  }
  expect(sink.docs).toHaveLength(0);
}

describe('offline analysis inputs', () => {
  test('sniffInput tells captures from audit logs from anything else', () => {
    expect(sniffInput(readFileSync(pcapng).subarray(0, 4096))).toBe('pcapng');
    expect(sniffInput(readFileSync(audit))).toBe('audit');
    expect(sniffInput(new TextEncoder().encode('{"json": true}\n'))).toBe('unknown');
  });

  test('an input that is not what its flag says is refused before anything is written', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'just text\n');
    await rejects({ audit: [{ path: pcapng }], sink: new MemorySink(), namespace: 'x', toleranceMs: 2000 }, /is not a Linux audit log \(it is a pcapng capture\)/);
    await rejects({ pcap: { path: audit }, audit: [], sink: new MemorySink(), namespace: 'x', toleranceMs: 2000 }, /is an audit log, not a capture/);
    await rejects({ pcap: { path: notes }, audit: [], sink: new MemorySink(), namespace: 'x', toleranceMs: 2000 }, /is not a pcap or pcapng capture/);
    await rejects({ audit: [{ path: join(dir, 'missing.log') }], sink: new MemorySink(), namespace: 'x', toleranceMs: 2000 }, /cannot read audit log .*ENOENT/);
    await rejects({ audit: [], sink: new MemorySink(), namespace: 'x', toleranceMs: 2000 }, /nothing to analyze/);
    await rejects({ pcap: { name: 'upload.bin', bytes: new TextEncoder().encode('PK\x03\x04 a zip') }, audit: [{ path: audit }], sink: new MemorySink(), namespace: 'x', toleranceMs: 2000 }, /upload\.bin is not a pcap or pcapng capture/);
  });

  test('rotated logs given newest first are read oldest first; host from --host-name; flows of a capture are all listed', async () => {
    const older = join(dir, 'audit.log.1');
    const newer = join(dir, 'audit.log');
    writeFileSync(older, `${rhel7Files().join('\n')}\n`.replaceAll('1764900000', '1764800000'));
    const sink = new MemorySink();
    const summary = await analyzeCase({ pcap: { path: pcapng }, audit: [{ path: newer }, { path: older }], sink, namespace: 'case7', hostName: 'victim', toleranceMs: 2000 });
    expect(summary.audit!.files).toEqual([older, newer]);
    expect(summary.host).toEqual({ name: 'victim', id: offlineHostId('victim') });
    const flows = sink.docs.filter((d) => d.event.dataset === 'provmon.flow');
    expect(flows.length).toBeGreaterThan(0);
    // lo.pcapng's flows are not in these logs: each says so, and is listed
    for (const f of flows) expect((f.provmon!.attribution as { method: string }).method).toBe('none');
    expect(summary.correlation.unattributed).toBe(summary.correlation.flows);
    expect(summary.unattributed.length).toBe(summary.correlation.flows);
    expect(sink.docs.every((d) => d.data_stream.namespace === 'case7' && d.host.name === 'victim')).toBe(true);
  });

  test('uploaded bytes and streamed chunks (the Offline analysis page) give the documents the paths give', async () => {
    const fromPaths = new MemorySink();
    await analyzeCase({ pcap: { path: pcapng }, audit: [{ path: audit }], sink: fromPaths, namespace: 'u', hostName: 'h', toleranceMs: 2000 });
    const fromUpload = new MemorySink();
    const bytes = readFileSync(audit);
    async function* stream(): AsyncGenerator<Uint8Array> {
      for (let o = 0; o < bytes.length; o += 100) yield bytes.subarray(o, o + 100);
    }
    await analyzeCase({ pcap: { name: 'upload.pcapng', bytes: readFileSync(pcapng) }, audit: [{ name: 'upload.log', chunks: stream() }], sink: fromUpload, namespace: 'u', hostName: 'h', toleranceMs: 2000 });
    expect(fromUpload.docs.map((d) => d.event.id)).toEqual(fromPaths.docs.map((d) => d.event.id));
  });
});
