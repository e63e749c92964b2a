import { expect, test } from 'bun:test';
import { join } from 'node:path';
import { readCaptureFile } from './capture-file.ts';
import { libpcapVersion, PcapHandle } from './libpcap.ts';

const dir = join(import.meta.dir, 'testdata');

test('libpcap loads through bun:ffi', () => {
  expect(libpcapVersion()).toMatch(/^libpcap version 1\./);
});

// libpcap reading a file and the pure-TS reader must agree packet for packet: this checks the FFI
// struct layouts (pcap_pkthdr) as much as the TS reader.
for (const name of ['lo.pcapng', 'any-sll.pcap']) {
  test(`libpcap and the TS reader agree on ${name}`, () => {
    const file = join(dir, name);
    const ours: string[] = [];
    readCaptureFile(file, (r) => ours.push(`${r.tsSec}.${r.tsNsec} ${r.capLen}/${r.wireLen} ${Buffer.from(r.data.subarray(r.offset, r.offset + r.capLen)).toString('hex')}`));
    const theirs: string[] = [];
    const h = PcapHandle.openOffline(file);
    try {
      while (!h.done) h.dispatch(1000, (r) => theirs.push(`${r.tsSec}.${r.tsNsec} ${r.capLen}/${r.wireLen} ${Buffer.from(r.data.subarray(r.offset, r.offset + r.capLen)).toString('hex')}`));
    } finally {
      h.close();
    }
    expect(theirs.length).toBe(ours.length);
    expect(theirs).toEqual(ours);
  });
}

test('libpcap cannot read a pcapng whose interfaces differ in link type; the TS reader can', () => {
  const file = join(dir, 'multi-if.pcapng');
  const h = PcapHandle.openOffline(file);
  try {
    expect(() => {
      while (!h.done) h.dispatch(1000, () => {});
    }).toThrow(/different from the type of the first interface/);
  } finally {
    h.close();
  }
  const linkTypes = new Set<number>();
  const result = readCaptureFile(file, (r) => linkTypes.add(r.linkType));
  expect(result.error).toBeUndefined();
  expect(linkTypes.size).toBe(2);
});

test('a BPF filter is applied by libpcap (offline)', () => {
  const h = PcapHandle.openOffline(join(dir, 'lo.pcapng'), 'udp port 53');
  let n = 0;
  while (!h.done) n += h.dispatch(1000, () => {});
  h.close();
  const all = PcapHandle.openOffline(join(dir, 'lo.pcapng'));
  let m = 0;
  while (!all.done) m += all.dispatch(1000, () => {});
  all.close();
  expect(n).toBeGreaterThan(10);
  expect(n).toBeLessThan(m);
});

test('a bad filter expression is quoted back', () => {
  expect(() => PcapHandle.openOffline(join(dir, 'lo.pcapng'), 'tcp and prot 80')).toThrow(/bad BPF filter "tcp and prot 80": .*/);
});

test('libpcap on a non-capture file', () => {
  expect(() => PcapHandle.openOffline(join(import.meta.dir, 'decode.ts'))).toThrow(/libpcap cannot read/);
});
