/**
 * The hot-path serialiser against JSON.stringify: the same bytes for every document the builder makes, for the
 * committed capture, and for awkward values; and shared parts that cannot go stale.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { PmRecord } from '../ebpf/records.ts';
import { documentJson, encodeDocument, shareDocumentPart } from './document-json.ts';
import { FdTable } from './fd-table.ts';
import { hostIdentity } from './host.ts';
import { ProcessTable } from './process-table.ts';
import { SyscallEventBuilder } from './syscall-events.ts';
import { execRecord, fileRecord, forkRecord, header, ioRecord } from './testdata/records.ts';
import { build } from './testdata/session.ts';

const decoder = new TextDecoder();

/** documentJson's text and encodeDocument's bytes, both checked against JSON.stringify; returns the text. */
function bothWays(doc: object): string {
  const text = documentJson(doc);
  const buffer = new Uint8Array(1 << 16);
  const end = encodeDocument(doc, buffer, 7, buffer.length);
  expect(end).toBeGreaterThan(7);
  expect(decoder.decode(buffer.subarray(7, end))).toBe(text);
  return text;
}

function expectSameAsStringify(docs: object[]): void {
  for (const doc of docs) {
    const text = bothWays(doc);
    expect(text).toBe(JSON.stringify(doc));
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(doc)));
  }
}

describe('documents serialise exactly as JSON.stringify', () => {
  test('every kind of document the builder makes (shared host, process, file, user and group parts)', () => {
    const docs = build();
    expect(docs.length).toBeGreaterThan(30);
    // The builder shares: the same host object in every document, process fields reused within a process.
    expect(new Set(docs.map((d) => d.host)).size).toBe(1);
    expect(Object.isFrozen(docs[0]!.host)).toBe(true);
    expectSameAsStringify(docs);
  });

  test('the committed capture, with its repeated parts shared as the builder shares them', () => {
    const lines = readFileSync(resolve(import.meta.dir, '../ui/testdata/narrative-capture.jsonl'), 'utf8').trim().split('\n');
    const parts = new Map<string, object>();
    const share = (value: unknown) => {
      if (typeof value !== 'object' || value === null) return value;
      const text = JSON.stringify(value);
      let have = parts.get(text);
      if (!have) parts.set(text, (have = shareDocumentPart(value)));
      return have;
    };
    const docs = lines.map((line) => {
      const doc = JSON.parse(line) as Record<string, unknown>;
      for (const key of ['host', 'process', 'data_stream', 'user', 'group', 'file']) if (key in doc) doc[key] = share(doc[key]);
      return doc;
    });
    expect(docs.length).toBeGreaterThan(40);
    expect(parts.size).toBeLessThan(docs.length); // parts really were shared
    for (let i = 0; i < docs.length; i++) expect(bothWays(docs[i]!)).toBe(lines[i]!);
  });

  test('awkward values: escapes, non-ASCII, lone surrogates, undefined, functions, NaN, toJSON', () => {
    const awkward = {
      '@timestamp': '2026-01-01T00:00:00.000001Z',
      quote: 'a "b" \\ c\n\t\u0001',
      unicode: 'Grüße, 日本, 🐧',
      lone: 'x\ud800y',
      skipped: undefined,
      fn: () => 1,
      nan: Number.NaN,
      inf: -Infinity,
      negZero: -0,
      nested: { list: [1, undefined, () => 2, 'é'], empty: {}, nil: null },
      shared: shareDocumentPart({ name: 'ü "quoted"', args: ['a\u2028b'] }),
      'key "quoted"': true,
    };
    expectSameAsStringify([awkward, { ...awkward, shared: undefined }, {}]);
    const withToJson = { a: 1, toJSON: () => ({ b: 2 }) };
    expect(documentJson(withToJson)).toBe('{"b":2}');
    expect(encodeDocument(withToJson, new Uint8Array(64), 0, 64)).toBe(-1); // left to documentJson
  });
});

describe('shared parts', () => {
  test('cannot be changed, however deep', () => {
    const part = shareDocumentPart({ name: 'x', parent: { pid: 1 }, args: ['a'] });
    expect(() => ((part as { name: string }).name = 'y')).toThrow(TypeError);
    expect(() => ((part.parent as { pid: number }).pid = 2)).toThrow(TypeError);
    expect(() => part.args.push('b')).toThrow(TypeError);
  });

  test('an object someone else froze is not trusted: its text is made afresh', () => {
    const inner = { pid: 1 };
    const frozen = Object.freeze({ parent: inner });
    expect(documentJson({ process: frozen })).toBe('{"process":{"parent":{"pid":1}}}');
    inner.pid = 2;
    expect(documentJson({ process: frozen })).toBe('{"process":{"parent":{"pid":2}}}');
  });

  test('encodeDocument refuses a buffer that might be too small, and writes nothing past its limit', () => {
    const doc = { host: shareDocumentPart({ name: 'h'.repeat(100) }), event: { id: 'x'.repeat(100) } };
    const buffer = new Uint8Array(1000).fill(0xff);
    expect(encodeDocument(doc, buffer, 0, 150)).toBe(-1);
    expect(buffer.subarray(150).every((b) => b === 0xff)).toBe(true);
    const end = encodeDocument(doc, buffer, 0, 1000);
    expect(decoder.decode(buffer.subarray(0, end))).toBe(JSON.stringify(doc));
  });
});

describe('the builder shares a process\'s fields only while they hold', () => {
  function feedAll(records: PmRecord[]): EcsEvent[] {
    const host = hostIdentity('document-json-test');
    const b = new SyscallEventBuilder({
      host, processes: new ProcessTable({ host }), fds: new FdTable(), namespace: 'default', bootId: 'b00710',
      toIso: (ns) => new Date(host.bootTimeMs + ns / 1e6).toISOString(), toEpochMs: (ns) => host.bootTimeMs + ns / 1e6,
    });
    const docs: EcsEvent[] = [];
    for (const r of records) b.handle(r, (d) => docs.push(JSON.parse(JSON.stringify(d)) as EcsEvent));
    return docs;
  }

  test('a new image, the exit and a reused pid each show in the documents that follow', () => {
    const fork = forkRecord(10, 11);
    const child = { ppid: 10, startNs: fork.childStartNs };
    const docs = feedAll([
      execRecord(10, '/usr/bin/bash', ['bash']),
      fork,
      fileRecord(11, 'openat', '/etc/hosts', { ...child, flags: 0, ret: 3 }),
      ioRecord(11, 3, { ...child, rdCalls: 1, rdBytes: 10, rdFirstNs: 1, rdLastNs: 1 }),
      execRecord(11, '/usr/bin/curl', ['curl', 'http://x/'], child),
      fileRecord(11, 'openat', '/etc/hosts', { ...child, flags: 0, ret: 3 }),
      { ...header(11, child), kind: 'exit', status: 0, exitCode: 0, signal: 0, coreDumped: false },
      // the pid comes back as another process (another start time)
      execRecord(11, '/usr/bin/env', ['env'], { ppid: 10, startNs: fork.childStartNs + 5e9 }),
      fileRecord(11, 'openat', '/etc/hosts', { ppid: 10, startNs: fork.childStartNs + 5e9, flags: 0, ret: 3 }),
    ]);
    const opens = docs.filter((d) => d.event.action === 'open');
    expect(opens.map((d) => d.process?.args)).toEqual([['bash'], ['curl', 'http://x/'], ['env']]);
    expect(opens.map((d) => d.process?.end)).toEqual([undefined, undefined, undefined]);
    const end = docs.find((d) => d.event.action === 'end')!;
    expect(end.process?.args).toEqual(['curl', 'http://x/']);
    expect(typeof end.process?.end).toBe('string');
    expect(new Set(opens.map((d) => d.process?.entity_id)).size).toBe(2); // the reused pid is another entity
  });

  test('a permission change or a directory deletion adds to its file fields without touching the shared ones', () => {
    const docs = feedAll([
      execRecord(10, '/usr/bin/bash', ['bash']),
      fileRecord(10, 'openat', '/tmp/d', { flags: 0, ret: 3 }),
      fileRecord(10, 'fchmodat', '/tmp/d', { mode: 0o700 }),
      fileRecord(10, 'unlinkat', '/tmp/d', { flags: 0x200 }),
      fileRecord(10, 'openat', '/tmp/d', { flags: 0, ret: 3 }),
    ]);
    expect(docs.slice(1).map((d) => d.file)).toEqual([
      { path: '/tmp/d', name: 'd', directory: '/tmp' },
      { path: '/tmp/d', name: 'd', directory: '/tmp', mode: '0700' },
      { path: '/tmp/d', name: 'd', directory: '/tmp', type: 'dir' },
      { path: '/tmp/d', name: 'd', directory: '/tmp' },
    ]);
  });
});
