import { InvalidArgumentError, Option, type Command } from 'commander';
import { addConfigOptions, type ConfigFlags } from './options.ts';

export interface RunFlags extends ConfigFlags {
  duration?: number;
  eventsDir?: string;
  outputDir?: string;
  hostname?: string;
  storage?: string;
  es?: string;
  ebpf?: boolean;
  pcap?: boolean;
  interface?: string;
  bpfFilter?: string;
  pcapFile?: string;
  printConfig?: boolean;
}

export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run the sensor: eBPF syscall capture and packet capture into the local store or Elasticsearch, with live stats')
    .option('--duration <seconds>', 'stop after this many seconds (default: until SIGINT, SIGTERM or SIGHUP; a second signal during the stop only stops waiting for slow outputs)', positiveSeconds)
    .option('--events-dir <dir>', 'local store directory (config events_dir)')
    .option('--output-dir <dir>', 'spool and outputs directory (config output_dir)')
    .option('--hostname <name>', 'host.name on every event (config hostname)')
    .addOption(new Option('--storage <type>', 'where events go (config storage_type)').choices(['local', 'elasticsearch']))
    .option('--es <url>', 'Elasticsearch URL; implies --storage elasticsearch (config es_config.hosts)')
    .option('--no-ebpf', 'do not capture syscalls (config ebpf_config.enabled=false)')
    .option('--no-pcap', 'do not capture packets (config pcap_config.enabled=false)')
    .option('--interface <name>', 'capture interface, e.g. any or eth0 (config pcap_config.interface)')
    .option('--bpf-filter <expr>', 'packet filter expression (config pcap_config.bpf_filter)')
    .option('--pcap-file <file>', 'read packets from a pcap/pcapng file instead of an interface, then exit')
    .option('--print-config', 'print the effective configuration (secrets redacted) and the paths it resolves to, then exit');
  addConfigOptions(command).action(async (flags: RunFlags, cmd: Command) => {
    const { runAction } = await import('./run-action.ts');
    await runAction(flags, cmd);
  });
}
