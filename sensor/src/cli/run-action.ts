import type { Command } from 'commander';
import { redactConfig } from '../config/load.ts';
import { resolvePaths, type ResolvedPaths } from '../config/paths.ts';
import type { Config } from '../config/schema.ts';
import { ProvmonError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { preflightProblems } from '../preflight/capabilities.ts';
import { StopRequests } from '../run/stop-requests.ts';
import { openContext } from './context.ts';
import type { RunFlags } from './run.ts';

export async function runAction(flags: RunFlags, cmd: Command): Promise<void> {
  const fromCli = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  const { loaded, log } = openContext(flags, {
    events_dir: { value: flags.eventsDir, flag: '--events-dir' },
    output_dir: { value: flags.outputDir, flag: '--output-dir' },
    hostname: { value: flags.hostname, flag: '--hostname' },
    storage_type: { value: flags.es ? 'elasticsearch' : flags.storage, flag: flags.es ? '--es' : '--storage' },
    'es_config.hosts': { value: flags.es ? [flags.es] : undefined, flag: '--es' },
    'ebpf_config.enabled': { value: fromCli('ebpf') ? flags.ebpf : undefined, flag: '--no-ebpf' },
    'pcap_config.enabled': { value: fromCli('pcap') ? flags.pcap : undefined, flag: '--no-pcap' },
    'pcap_config.interface': { value: flags.interface, flag: '--interface' },
    'pcap_config.bpf_filter': { value: flags.bpfFilter, flag: '--bpf-filter' },
  });
  const { config } = loaded;
  const paths = resolvePaths(config);
  if (flags.printConfig) {
    process.stdout.write(`${JSON.stringify({ file: loaded.file ?? null, config: redactConfig(config), paths }, null, 2)}\n`);
    return;
  }
  if (!config.ebpf_config.enabled && !config.pcap_config.enabled && !flags.pcapFile) {
    throw new ProvmonError('nothing to capture: both eBPF and packet capture are disabled', { hint: 'enable one of them, or pass --pcap-file', exitCode: 2 });
  }
  // Listening before anything slow starts: a signal during start-up becomes a graceful stop once capture is up.
  const stop = flags.pcapFile ? undefined : new StopRequests().install();
  try {
    await startRun(flags, loaded.config, paths, log, stop);
  } finally {
    stop?.uninstall();
  }
}

async function startRun(flags: RunFlags, config: Config, paths: ResolvedPaths, log: Logger, stop: StopRequests | undefined): Promise<void> {
  log.info({ phase: 'starting', events_dir: paths.eventsDir, why: paths.reason.eventsDir }, `events will be written to ${paths.eventsDir}`);
  log.info({ output_dir: paths.outputDir, why: paths.reason.outputDir }, `outputs and spool go to ${paths.outputDir}`);
  // A capture file needs no privileges: eBPF is not loaded and nothing is captured live.
  const problems = preflightProblems({ ebpf: config.ebpf_config.enabled && !flags.pcapFile, pcap: config.pcap_config.enabled && !flags.pcapFile });
  if (problems.length > 0) {
    throw new ProvmonError(`cannot start capture:\n${problems.map((p) => `- ${p.what}\n  fix: ${p.fix}`).join('\n')}`, { exitCode: 77 });
  }
  if (flags.pcapFile && config.ebpf_config.enabled) log.info('--pcap-file: reading the file only (eBPF capture is for live runs)');
  const { runSensor, EXIT_DAMAGED_INPUT } = await import('../run/sensor.ts');
  const summary = await runSensor({
    config,
    paths,
    log,
    ...(stop ? { stop } : {}),
    ...(flags.duration ? { durationS: flags.duration } : {}),
    ...(flags.pcapFile ? { pcapFile: flags.pcapFile } : {}),
  });
  if (summary.pcapFile?.damaged) {
    throw new ProvmonError(`capture file ${flags.pcapFile} is damaged (${summary.pcapFile.error ?? `${summary.pcapFile.malformed} malformed`}); everything readable was processed and written`, {
      hint: 'the final summary (phase "stopped") counts the damage by reason under pcapFile.malformedBy',
      exitCode: EXIT_DAMAGED_INPUT,
    });
  }
}
