import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { describeError } from '../errors.ts';
import { probeFeatures, loadSensor, preflight } from '../ebpf/loader.ts';
import { checkObject, DEFAULT_OBJECT } from '../ebpf/object.ts';
import { libbpf } from '../ebpf/libbpf.ts';
import { libpcapVersion } from '../pcap/libpcap.ts';
import { KERNEL_BTF_PATH, preflightProblems } from '../preflight/capabilities.ts';
import { PROVMON_VERSION } from '../version.ts';
import { openContext } from './context.ts';
import type { DoctorFlags } from './doctor.ts';

/** One line of the report. `fatal`: capture cannot work while this fails. */
export interface Check {
  name: string;
  status: 'ok' | 'fallback' | 'fail' | 'skipped';
  detail: string;
  fix?: string;
  fatal?: boolean;
}

/** Runs a check that may throw (a ProvmonError carries its own hint): the exception becomes a failed check. */
function attempt(name: string, fatal: boolean, run: () => string): Check {
  try {
    return { name, status: 'ok', detail: run() };
  } catch (error) {
    const [detail, hint] = describeError(error).split('\n  hint: ');
    return { name, status: 'fail', detail: detail!, ...(hint ? { fix: hint } : {}), fatal };
  }
}

export function runChecks(options: { ebpf: boolean; pcap: boolean; forceFallback: readonly string[]; load: boolean; ringBytes: number }): Check[] {
  const checks: Check[] = [];
  checks.push({ name: 'provmon', status: 'ok', detail: `${PROVMON_VERSION} (bun ${Bun.version}, ${process.arch})` });
  checks.push({ name: 'kernel', status: 'ok', detail: release() });
  for (const p of preflightProblems({ ebpf: options.ebpf, pcap: options.pcap })) {
    checks.push({ name: 'privileges', status: 'fail', detail: p.what, fix: p.fix, fatal: true });
  }
  if (!checks.some((c) => c.name === 'privileges')) checks.push({ name: 'privileges', status: 'ok', detail: 'what the enabled capture needs' });
  if (options.ebpf) {
    checks.push(
      existsSync(KERNEL_BTF_PATH)
        ? { name: 'btf', status: 'ok', detail: KERNEL_BTF_PATH }
        : { name: 'btf', status: 'fail', detail: `no kernel BTF at ${KERNEL_BTF_PATH}`, fix: 'boot a kernel built with CONFIG_DEBUG_INFO_BTF=y, or run with --no-ebpf', fatal: true },
    );
    checks.push(attempt('libbpf', true, () => String(libbpf().libbpf_version_string())));
    checks.push(attempt('tracefs', true, () => (preflight(), 'mounted')));
    const object = attempt('ebpf object', true, () => (checkObject(DEFAULT_OBJECT), `${DEFAULT_OBJECT} (current)`));
    checks.push(object);
    const ready = !checks.some((c) => c.fatal && c.status === 'fail');
    if (ready) {
      for (const f of probeFeatures(DEFAULT_OBJECT, options.forceFallback)) {
        checks.push(
          f.fallbackReason
            ? { name: `feature ${f.feature}`, status: 'fallback', detail: `using ${f.using}: ${f.fallbackReason}` }
            : { name: `feature ${f.feature}`, status: 'ok', detail: 'accepted by this kernel' },
        );
      }
    }
    if (!options.load) checks.push({ name: 'ebpf load', status: 'skipped', detail: '--no-load' });
    else if (!ready) checks.push({ name: 'ebpf load', status: 'skipped', detail: 'a check above failed' });
    else {
      checks.push(
        attempt('ebpf load', true, () => {
          const sensor = loadSensor({ ringBytes: options.ringBytes, forceFallback: options.forceFallback, filters: { ownTgids: [process.pid] } });
          const programs = sensor.programCount;
          const missing = sensor.unavailable;
          sensor.close();
          return `${programs} programs verified and attached${missing.length ? `; tracepoints this kernel lacks: ${missing.join(', ')}` : ''}`;
        }),
      );
    }
  }
  if (options.pcap) checks.push(attempt('libpcap', true, () => libpcapVersion()));
  return checks;
}

export async function doctorAction(flags: DoctorFlags): Promise<number> {
  const { loaded } = openContext(flags);
  const cfg = loaded.config;
  const checks = runChecks({
    ebpf: cfg.ebpf_config.enabled,
    pcap: cfg.pcap_config.enabled,
    forceFallback: cfg.ebpf_config.force_fallback,
    load: flags.load !== false,
    ringBytes: cfg.ebpf_config.ring_buffer_mb * 1024 * 1024,
  });
  const ok = !checks.some((c) => c.status === 'fail' && c.fatal);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok, checks })}\n`);
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      process.stdout.write(`${c.status.padEnd(8)} ${c.name.padEnd(width)}  ${c.detail}\n`);
      if (c.fix) process.stdout.write(`${' '.repeat(9 + width + 2)}fix: ${c.fix}\n`);
    }
    process.stdout.write(ok ? 'capture can work on this host\n' : 'capture cannot work on this host: fix the failed checks above\n');
  }
  return ok ? 0 : 77;
}
