/**
 * The decoder's offsets (records.ts Layout) and the filter key encodings (filters.ts)
 * against the BTF of the compiled object: a change in bpf/provmon.h that is not mirrored
 * in TypeScript fails here instead of silently corrupting decoded records.
 * Needs the object built (bpf/build.sh, at install) and bpftool.
 */
import { describe, expect, test, beforeAll } from 'bun:test';
import { existsSync } from 'node:fs';
import { Layout } from './records.ts';
import { noiseKey, prefixEntry, parsePrefix, netKey } from './filters.ts';
import { DEFAULT_OBJECT } from './loader.ts';
import { checkObject } from './object.ts';

interface BtfMember { name: string; bits_offset: number }
interface BtfType { kind: string; name: string; size?: number; members?: BtfMember[] }

const canBuild = existsSync(DEFAULT_OBJECT) && Bun.which('bpftool') !== null;

describe.skipIf(!canBuild)('record layout matches the compiled object', () => {
  const structs = new Map<string, { size: number; offsets: Record<string, number> }>();

  beforeAll(() => {
    checkObject(DEFAULT_OBJECT);
    const r = Bun.spawnSync(['bpftool', '-j', 'btf', 'dump', 'file', DEFAULT_OBJECT]);
    expect(r.exitCode).toBe(0);
    const types = (JSON.parse(r.stdout.toString()) as { types: BtfType[] }).types;
    for (const t of types) {
      if (t.kind !== 'STRUCT' || !t.name.startsWith('pm_')) continue;
      const offsets: Record<string, number> = {};
      for (const m of t.members ?? []) offsets[m.name] = m.bits_offset / 8;
      structs.set(t.name, { size: t.size ?? 0, offsets });
    }
  });

  const cases: [string, Record<string, number>][] = [
    ['pm_hdr', Layout.hdr],
    ['pm_exec', Layout.exec],
    ['pm_fork', Layout.fork],
    ['pm_exit', Layout.exit],
    ['pm_file', Layout.file],
    ['pm_io', Layout.io],
    ['pm_io_counts', Layout.io_counts],
    ['pm_dup', Layout.dup],
    ['pm_setid', Layout.setid],
    ['pm_net', Layout.net],
    ['pm_fold', Layout.fold],
    ['pm_chan', Layout.chan],
    ['pm_stats', Layout.stats],
    ['pm_proc_state', Layout.proc_state],
    ['pm_cfg', Layout.cfg],
  ];
  for (const [name, layout] of cases) {
    test(`${name}`, () => {
      const s = structs.get(name);
      expect(s).toBeDefined();
      for (const [field, off] of Object.entries(layout)) {
        if (field === 'SIZE') expect({ field, v: s!.size }).toEqual({ field, v: off });
        else expect({ field, v: s!.offsets[field] }).toEqual({ field, v: off });
      }
    });
  }

  test('filter map keys have the kernel sizes', () => {
    expect(noiseKey('x', '/x').length).toBe(structs.get('pm_noise_key')!.size);
    const p = prefixEntry(parsePrefix('/proc'));
    expect(p.key.length).toBe(structs.get('pm_prefix_key')!.size);
    expect(p.value.length).toBe(structs.get('pm_prefix_val')!.size);
    expect(netKey('::1', 1).length).toBe(structs.get('pm_net_key')!.size);
  });
});
