import { existsSync, readFileSync } from 'node:fs';

/** Linux capability numbers (include/uapi/linux/capability.h). */
export const CAP = { NET_ADMIN: 12, NET_RAW: 13, SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;

export const KERNEL_BTF_PATH = '/sys/kernel/btf/vmlinux';

/** The effective capability set of this process, from /proc/self/status. */
export function effectiveCapabilities(statusText = readFileSync('/proc/self/status', 'utf8')): bigint {
  const line = statusText.split('\n').find((l) => l.startsWith('CapEff:'));
  return line ? BigInt(`0x${line.slice('CapEff:'.length).trim()}`) : 0n;
}

export function hasCapability(capEff: bigint, cap: number): boolean {
  return (capEff & (1n << BigInt(cap))) !== 0n;
}

export interface PreflightProblem {
  what: string;
  fix: string;
}

export interface PreflightInput {
  ebpf: boolean;
  pcap: boolean;
  /** Defaults read from this machine; tests pass their own. */
  capEff?: bigint;
  btfPath?: string;
}

/**
 * What the enabled capture engines need from the kernel and this process. Checked before anything is loaded, so a
 * missing privilege is one clear sentence instead of an EPERM from deep inside libbpf or libpcap.
 */
export function preflightProblems(input: PreflightInput): PreflightProblem[] {
  const capEff = input.capEff ?? effectiveCapabilities();
  const btfPath = input.btfPath ?? KERNEL_BTF_PATH;
  const problems: PreflightProblem[] = [];
  const admin = hasCapability(capEff, CAP.SYS_ADMIN);
  if (input.ebpf) {
    const needed = { CAP_BPF: CAP.BPF, CAP_PERFMON: CAP.PERFMON };
    const missing = Object.entries(needed).filter(([, cap]) => !hasCapability(capEff, cap)).map(([name]) => name);
    if (!admin && missing.length > 0) {
      problems.push({
        what: `eBPF capture needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); this process ${missing.length === 2 ? 'has neither' : `lacks ${missing[0]}`}`,
        fix: 'run provmon as root (sudo) or through provmon-sensor.service (it grants exactly what capture needs); or grant the capabilities: setcap cap_bpf,cap_perfmon,cap_net_raw,cap_net_admin+ep <bun binary>; or disable eBPF with --no-ebpf',
      });
    }
    if (!existsSync(btfPath)) {
      problems.push({
        what: `the kernel exposes no BTF at ${btfPath}, so the CO-RE programs cannot be relocated`,
        fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian 12 kernels have it), or disable eBPF with --no-ebpf',
      });
    }
  }
  if (input.pcap && !(admin || hasCapability(capEff, CAP.NET_RAW))) {
    problems.push({
      what: 'packet capture needs CAP_NET_RAW; this process lacks it',
      fix: 'run provmon as root (sudo), or grant cap_net_raw,cap_net_admin; or disable packet capture with --no-pcap',
    });
  }
  return problems;
}
