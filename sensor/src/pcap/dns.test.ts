import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { readCaptureFile } from './capture-file.ts';
import { DecodeStats } from './decode-stats.ts';
import { DecodedPacket, decodePacket, PROTO_UDP } from './decode.ts';
import { type DnsMessage, DnsStats, dnsHeaderFlags, dnsRcodeName, dnsTypeName, parseDns } from './dns.ts';
import { concat } from './testdata/build-packets.ts';
import { be16, be32, message, name, question, record } from './testdata/build-dns.ts';
import { tsharkFields } from './testdata/tshark.ts';

function parse(bytes: Uint8Array): { msg: DnsMessage | null; stats: DnsStats } {
  const stats = new DnsStats();
  // parse from an offset inside a larger buffer, as the pipeline does
  const buf = new Uint8Array(bytes.length + 9);
  buf.set(bytes, 5);
  return { msg: parseDns(buf, 5, bytes.length, stats), stats };
}

describe('real DNS from dnsmasq (lo.pcapng) against tshark', () => {
  const file = join(import.meta.dir, 'testdata', 'lo.pcapng');
  const ours: DnsMessage[] = [];
  const out = new DecodedPacket();
  const stats = new DecodeStats();
  const dnsStats = new DnsStats();
  readCaptureFile(file, (rec) => {
    if (decodePacket(rec, out, stats) && out.protocol === PROTO_UDP && (out.srcPort === 53 || out.dstPort === 53)) {
      const m = parseDns(out.data, out.payloadOffset, out.payloadCaptured, dnsStats);
      if (m) ours.push(m);
    }
  });
  // tshark lists values from every section (answers first, then authority and additional): the
  // answers are the first `ancount` entries of dns.resp.type, and a prefix of each value list
  const theirs = tsharkFields(file, ['dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.qry.type', 'dns.flags.rcode', 'dns.count.answers', 'dns.resp.type', 'dns.resp.ttl', 'dns.a', 'dns.aaaa', 'dns.cname', 'dns.mx.mail_exchange', 'dns.txt', 'dns.srv.target', 'dns.ptr.domain_name'], 'udp.port == 53 && !icmp');

  test('same messages, ids, names, types, rcodes, answers', () => {
    expect(dnsStats.malformed()).toBe(0);
    expect(ours.length).toBe(theirs.length);
    expect(ours.length).toBeGreaterThanOrEqual(20);
    let answers = 0;
    for (let i = 0; i < ours.length; i++) {
      const m = ours[i]!;
      const [id, resp, qname, qtype, rcode, ancount, respTypes, ttls, a, aaaa, cname, mx, txt, srv, ptr] = theirs[i]!;
      const list = (v: string | undefined) => (v ? v.split(',') : []);
      expect(m.id).toBe(Number(id));
      expect(m.response).toBe(resp === '1' || resp === 'True');
      expect(m.questions[0]!.name).toBe(qname!.toLowerCase());
      expect(m.questions[0]!.type).toBe(Number(qtype));
      expect(m.rcode).toBe(Number(rcode));
      expect(m.answers.length).toBe(Number(ancount));
      expect(m.answers.map((r) => r.type)).toEqual(list(respTypes).slice(0, m.answers.length).map(Number));
      expect(m.answers.map((r) => r.ttl)).toEqual(list(ttls).slice(0, m.answers.length).map(Number));
      const prefix = (type: number, values: string[], view: (d: string) => string = (d) => d) => {
        const mine = m.answers.filter((r) => r.type === type).map((r) => view(r.data));
        expect(mine).toEqual(values.slice(0, mine.length));
      };
      prefix(1, list(a));
      prefix(28, list(aaaa));
      prefix(5, list(cname));
      prefix(15, list(mx), (d) => d.split(' ')[1]!);
      prefix(33, list(srv), (d) => d.split(' ')[3]!);
      prefix(12, list(ptr));
      const txts = m.answers.filter((r) => r.type === 16);
      if (txts.length) expect(txts[0]!.data).toBe(list(txt).map((x) => `"${x}"`).join(' '));
      answers += m.answers.length;
    }
    expect(answers).toBeGreaterThanOrEqual(10);
  });

  test('every record type the test zone serves is decoded', () => {
    const types = new Set(ours.flatMap((m) => m.answers.map((r) => dnsTypeName(r.type))));
    for (const t of ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'PTR']) expect(types.has(t)).toBe(true);
    expect(ours.some((m) => dnsRcodeName(m.rcode) === 'NXDOMAIN')).toBe(true);
    const txt = ours.flatMap((m) => m.answers).find((r) => r.type === 16)!;
    expect(txt.data).toBe('"v=spf1 -all" "second string"');
    const srv = ours.flatMap((m) => m.answers).find((r) => r.type === 33)!;
    expect(srv.data).toBe('0 5 8080 web.provmon.test');
    const mx = ours.flatMap((m) => m.answers).find((r) => r.type === 15)!;
    expect(mx.data).toBe('10 mail.provmon.test');
  });

  test('EDNS: dig sends an OPT record', () => {
    expect(ours.some((m) => m.ednsUdpSize !== undefined)).toBe(true);
  });

  test('every truncation of every real message: no throw, counted', () => {
    const raw: Uint8Array[] = [];
    readCaptureFile(file, (rec) => {
      if (decodePacket(rec, out, stats) && out.protocol === PROTO_UDP && (out.srcPort === 53 || out.dstPort === 53)) raw.push(out.data.slice(out.payloadOffset, out.payloadOffset + out.payloadCaptured));
    });
    for (const m of raw) {
      for (let len = 0; len < m.length; len++) {
        const r = parse(m.subarray(0, len));
        // a cut message either fails or reports what came before the cut
        if (r.msg === null || r.msg.answers.length < parse(m).msg!.answers.length) expect(r.stats.malformed()).toBeGreaterThanOrEqual(len === 0 ? 1 : 0);
      }
    }
  });
});

describe('compression guards', () => {
  const header = (qd: number) => concat(be16(1), be16(0x0100), be16(qd), be16(0), be16(0), be16(0));

  test('a pointer to itself', () => {
    const r = parse(concat(header(1), new Uint8Array([0xc0, 12]), be16(1), be16(1)));
    expect(r.msg).toBeNull();
    expect(r.stats.bad_pointer).toBe(1);
  });
  test('two pointers that point at each other', () => {
    // offset 12: "a" then pointer to 17; offset 17: "b" then pointer to 12
    const r = parse(concat(header(1), new Uint8Array([1, 0x61, 0xc0, 17, 0, 1, 0x62, 0xc0, 12]), be16(1), be16(1)));
    expect(r.msg).toBeNull();
    expect(r.stats.bad_pointer).toBe(1);
  });
  test('a pointer back into labels that lead to the same pointer', () => {
    // offset 12: "abc" label, then pointer to 12 (its own start): would loop forever
    const r = parse(concat(header(1), new Uint8Array([3, 0x61, 0x62, 0x63, 0xc0, 12]), be16(1), be16(1)));
    expect(r.stats.bad_pointer).toBe(1);
  });
  test('a forward pointer', () => {
    const r = parse(concat(header(1), new Uint8Array([0xc0, 40]), be16(1), be16(1), new Uint8Array(40)));
    expect(r.stats.bad_pointer).toBe(1);
  });
  test('a pointer past the end', () => {
    const r = parse(concat(header(1), name('x'), be16(1), be16(1), new Uint8Array([0xc0])));
    expect(r.msg).not.toBeNull(); // the question parsed; the message then claims nothing more
  });
  test('a legal chain of backward pointers', () => {
    // question: www.example.com; answer owner: pointer to question; CNAME rdata: "cdn" + pointer to "example.com"
    const q = question('www.example.com', 1);
    const cname = new Uint8Array([3, 0x63, 0x64, 0x6e, 0xc0, 16]);
    const msg = message({ questions: [q], answers: [record(new Uint8Array([0xc0, 12]), 5, 60, cname)] });
    const r = parse(msg);
    expect(r.stats.malformed()).toBe(0);
    expect(r.msg!.answers[0]!).toEqual({ name: 'www.example.com', type: 5, class: 1, ttl: 60, data: 'cdn.example.com' });
  });
  test('a name over 255 bytes', () => {
    const long = Array.from({ length: 5 }, () => 'a'.repeat(63)).join('.');
    const r = parse(message({ flags: 0x0100, questions: [question(long, 1)] }));
    expect(r.stats.name_too_long).toBe(1);
  });
  test('reserved label types', () => {
    const r = parse(concat(header(1), new Uint8Array([0x41, 0]), be16(1), be16(1)));
    expect(r.stats.bad_label).toBe(1);
  });
});

describe('records', () => {
  test('A with a wrong length, counts that lie', () => {
    const bad = parse(message({ questions: [question('a.test', 1)], answers: [record(name('a.test'), 1, 5, new Uint8Array(5))] }));
    expect(bad.stats.bad_rdata).toBe(1);
    expect(bad.msg!.questions[0]!.name).toBe('a.test');
    const lie = parse(message({ questions: [question('a.test', 1)], counts: [1, 40, 0, 0] }));
    expect(lie.stats.truncated).toBe(1);
    const huge = parse(message({ questions: [question('a.test', 1)], counts: [1, 65535, 0, 0] }));
    expect(huge.stats.too_many_records).toBe(1);
  });
  test('SOA, CAA, unknown types, escaping and case', () => {
    const soa = concat(name('ns.test'), name('admin.test'), be32(2024), be32(3600), be32(600), be32(86400), be32(60));
    const caa = concat(new Uint8Array([0, 5]), new TextEncoder().encode('issueletsencrypt.org'));
    const odd = concat(new Uint8Array([3, 0x41, 0x2e, 0x07]), name('Test'));
    const r = parse(
      message({
        questions: [question('WWW.Example.COM', 255)],
        answers: [record(name('test'), 6, 1, soa), record(name('test'), 257, 1, caa), record(name('test'), 99, 1, concat(new Uint8Array([2]), new TextEncoder().encode('a"'))), record(name('test'), 4242, 1, new Uint8Array([1, 2])), record(odd, 1, 1, new Uint8Array([1, 2, 3, 4]))],
      }),
    );
    expect(r.stats.malformed()).toBe(0);
    expect(r.msg!.questions[0]!.name).toBe('www.example.com');
    expect(r.msg!.answers.map((a) => a.data)).toEqual(['ns.test admin.test 2024 3600 600 86400 60', '0 issue "letsencrypt.org"', '"a\\""', '\\# 2 0102', '1.2.3.4']);
    expect(r.msg!.answers[4]!.name).toBe('a\\.\\007.test');
  });
  test('EDNS extended rcode and DO flag', () => {
    const opt = concat(new Uint8Array([0]), be16(41), be16(1232), new Uint8Array([1, 0, 0x80, 0]), be16(0));
    const r = parse(message({ flags: 0x8180, questions: [question('a.test', 1)], additional: [opt] }));
    expect(r.msg!.rcode).toBe(16);
    expect(dnsRcodeName(r.msg!.rcode)).toBe('BADVERS');
    expect(r.msg!.ednsUdpSize).toBe(1232);
    expect(dnsHeaderFlags(r.msg!)).toEqual(['RD', 'RA', 'DO']);
  });
  test('root name', () => {
    const r = parse(message({ flags: 0x0100, questions: [question('.', 2)] }));
    expect(r.msg!.questions[0]!.name).toBe('.');
  });
});
