/**
 * Live capture through libpcap (needs root): loopback and `any`, with a kernel BPF filter that
 * keeps only this test's traffic (random port), so other traffic on the shared machine is ignored.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvmonError } from '../errors.ts';
import { DecodeStats } from './decode-stats.ts';
import { DecodedPacket, decodePacket } from './decode.ts';
import { PcapHandle } from './libpcap.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './link-types.ts';

const port = 20000 + Math.floor(Math.random() * 20000);
let receiver: Socket;
let other: Socket;
let sender: Socket;

// Bound receivers on both ports: a datagram to a closed port would draw an ICMP error that fails the next send.
beforeAll(async () => {
  receiver = createSocket('udp4');
  other = createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(port, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => other.bind(port + 1, '127.0.0.1', resolve));
  sender = createSocket('udp4');
});
afterAll(() => {
  receiver.close();
  other.close();
  sender.close();
});

async function send(count: number, to = port): Promise<void> {
  for (let i = 0; i < count; i++) {
    const payload = Buffer.alloc(32);
    payload.writeUInt32BE(i, 0);
    await new Promise<void>((resolve, reject) => sender.send(payload, to, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }
}

/** Pull packets until `want` arrived or `waitMs` passed; decode each. */
async function drain(h: PcapHandle, want: number, waitMs = 5000): Promise<{ ports: Set<number>; seqs: Set<number>; count: number }> {
  const out = new DecodedPacket();
  const stats = new DecodeStats();
  const seqs = new Set<number>();
  const ports = new Set<number>();
  let count = 0;
  const deadline = Date.now() + waitMs;
  while (count < want && Date.now() < deadline) {
    const n = h.dispatch(1000, (rec) => {
      count++;
      if (decodePacket(rec, out, stats) && out.hasTransport) {
        ports.add(out.dstPort);
        if (out.payloadCaptured >= 4) seqs.add(rec.view.getUint32(out.payloadOffset));
      }
    });
    if (n === 0) await Bun.sleep(5);
  }
  return { ports, seqs, count };
}

describe('live capture (root)', () => {
  test('loopback with a kernel filter: every datagram, nothing else, no drops', async () => {
    const h = PcapHandle.openLive({ interface: 'lo', filter: `udp and dst port ${port}` });
    try {
      expect(h.linkType).toBe(LINKTYPE_ETHERNET);
      await send(2000);
      await send(50, port + 1); // filtered out in the kernel
      const got = await drain(h, 2000);
      const extra = await drain(h, 1, 300); // anything more would be a filter leak
      expect(got.count).toBe(2000);
      expect(extra.count).toBe(0);
      expect(got.ports).toEqual(new Set([port]));
      expect(got.seqs.size).toBe(2000);
      const stats = h.stats();
      expect(stats.received).toBeGreaterThanOrEqual(2000);
      expect(stats.dropped).toBe(0);
    } finally {
      h.close();
    }
  }, 20000);

  test('"any" gives Linux cooked frames, SLL2 on request', async () => {
    for (const [linkType, expected] of [
      [undefined, LINKTYPE_LINUX_SLL],
      ['LINUX_SLL2', LINKTYPE_LINUX_SLL2],
    ] as const) {
      const h = PcapHandle.openLive({ interface: 'any', filter: `udp and dst port ${port}`, ...(linkType ? { linkType } : {}) });
      try {
        expect(h.linkType).toBe(expected);
        await send(100);
        const got = await drain(h, 100);
        expect(got.count).toBe(100);
        expect(got.seqs.size).toBe(100);
      } finally {
        h.close();
      }
    }
  }, 20000);

  test('bad filter, unknown interface: clear errors', () => {
    expect(() => PcapHandle.openLive({ interface: 'lo', filter: 'port 99999' })).toThrow(/bad BPF filter "port 99999": /);
    try {
      PcapHandle.openLive({ interface: 'nosuchif0' });
      throw new Error('should have failed');
    } catch (e) {
      expect(e).toBeInstanceOf(ProvmonError);
      expect((e as ProvmonError).message).toMatch(/no such interface "nosuchif0"/);
      expect((e as ProvmonError).hint).toMatch(/\blo\b/);
    }
  });

  test('without privileges: a permission error that says how to fix it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'provmon-perm-'));
    chmodSync(dir, 0o755);
    const script = join(dir, 'open.ts');
    writeFileSync(
      script,
      `import { PcapHandle } from ${JSON.stringify(join(import.meta.dir, 'libpcap.ts'))};
try { PcapHandle.openLive({ interface: 'lo' }); console.log('OPENED'); }
catch (e) { console.log(e.message); console.log('hint: ' + e.hint); }`,
    );
    chmodSync(script, 0o644);
    const r = Bun.spawnSync(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, script], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, BUN_INSTALL_CACHE_DIR: dir },
      cwd: dir,
    });
    const out = r.stdout.toString();
    rmSync(dir, { recursive: true, force: true });
    expect(out).toMatch(/no permission to capture on "lo"/);
    expect(out).toMatch(/hint: .*cap_net_raw/);
  });

  test('run() pumps until aborted (immediate mode, small snap length)', async () => {
    // immediate mode makes libpcap use one fixed slot of snapLen bytes per packet: keep it small
    const h = PcapHandle.openLive({ interface: 'lo', filter: `udp and dst port ${port}`, immediate: true, snapLen: 2048 });
    let n = 0;
    const ac = new AbortController();
    const done = h.run(() => n++, { signal: ac.signal });
    try {
      await send(300);
      const deadline = Date.now() + 5000;
      while (n < 300 && Date.now() < deadline) await Bun.sleep(10);
    } finally {
      ac.abort();
      await done;
      h.close();
    }
    expect(n).toBe(300);
  }, 20000);
});
