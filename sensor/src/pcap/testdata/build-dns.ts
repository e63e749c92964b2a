/** Test-only DNS message builder (no compression unless the test writes pointers by hand). */
import { concat } from './build-packets.ts';

export function name(text: string): Uint8Array {
  if (text === '.' || text === '') return new Uint8Array([0]);
  const parts = text.split('.').map((l) => new TextEncoder().encode(l));
  return concat(...parts.map((p) => concat(new Uint8Array([p.length]), p)), new Uint8Array([0]));
}

function be16(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

function be32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

export function record(owner: Uint8Array, type: number, ttl: number, rdata: Uint8Array, cls = 1): Uint8Array {
  return concat(owner, be16(type), be16(cls), be32(ttl), be16(rdata.length), rdata);
}

export function message(o: { id?: number; flags?: number; questions?: Uint8Array[]; answers?: Uint8Array[]; authority?: Uint8Array[]; additional?: Uint8Array[]; counts?: [number, number, number, number] }): Uint8Array {
  const q = o.questions ?? [];
  const an = o.answers ?? [];
  const ns = o.authority ?? [];
  const ar = o.additional ?? [];
  const counts = o.counts ?? [q.length, an.length, ns.length, ar.length];
  return concat(be16(o.id ?? 0x1234), be16(o.flags ?? 0x8180), ...counts.map(be16), ...q, ...an, ...ns, ...ar);
}

export function question(n: string, type: number, cls = 1): Uint8Array {
  return concat(name(n), be16(type), be16(cls));
}

export { be16, be32 };
