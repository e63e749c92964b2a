import { describe, expect, test } from 'bun:test';
import { CAP, effectiveCapabilities, hasCapability, preflightProblems } from './capabilities.ts';

const caps = (...numbers: number[]) => numbers.reduce((acc, n) => acc | (1n << BigInt(n)), 0n);

describe('preflight checks', () => {
  test('reads CapEff from /proc status text', () => {
    const capEff = effectiveCapabilities('Name:\tx\nCapEff:\t000001ffffffffff\n');
    expect(hasCapability(capEff, CAP.BPF)).toBe(true);
    expect(hasCapability(effectiveCapabilities('CapEff:\t0000000000000000\n'), CAP.NET_RAW)).toBe(false);
  });

  test('no capabilities: eBPF and packet capture each say what is missing and how to fix it', () => {
    const problems = preflightProblems({ ebpf: true, pcap: true, capEff: 0n, btfPath: '/proc/self/status' });
    expect(problems.map((p) => p.what)).toEqual([
      'eBPF capture needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); this process has neither',
      'packet capture needs CAP_NET_RAW; this process lacks it',
    ]);
    expect(problems[0]!.fix).toContain('--no-ebpf');
  });

  test('CAP_BPF with CAP_PERFMON is enough without CAP_SYS_ADMIN', () => {
    expect(preflightProblems({ ebpf: true, pcap: false, capEff: caps(CAP.BPF, CAP.PERFMON), btfPath: '/proc/self/status' })).toEqual([]);
    expect(preflightProblems({ ebpf: true, pcap: false, capEff: caps(CAP.BPF), btfPath: '/proc/self/status' })).toHaveLength(1);
  });

  test('one capability missing: the problem names that one', () => {
    const [problem] = preflightProblems({ ebpf: true, pcap: false, capEff: caps(CAP.BPF, CAP.NET_RAW), btfPath: '/proc/self/status' });
    expect(problem!.what).toEndWith('this process lacks CAP_PERFMON');
  });

  test('a kernel without BTF is named', () => {
    const problems = preflightProblems({ ebpf: true, pcap: false, capEff: caps(CAP.SYS_ADMIN), btfPath: '/nonexistent/btf/vmlinux' });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.what).toContain('no BTF at /nonexistent/btf/vmlinux');
  });

  test('disabled engines need nothing', () => {
    expect(preflightProblems({ ebpf: false, pcap: false, capEff: 0n, btfPath: '/nonexistent' })).toEqual([]);
  });
});
