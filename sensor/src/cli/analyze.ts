import { InvalidArgumentError, type Command } from 'commander';
import { addConfigOptions, type ConfigFlags } from './options.ts';

export interface AnalyzeFlags extends ConfigFlags {
  pcap?: string;
  auditLog?: string[];
  eventsDir?: string;
  es?: string;
  namespace?: string;
  tolerance: number;
  hostName?: string;
  json?: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new InvalidArgumentError('expected seconds between 0 and 3600, e.g. 2 or 0.5');
  return n;
}

export function registerAnalyze(program: Command): void {
  const command = program
    .command('analyze')
    .description(
      'offline forensics: turn a packet capture and Linux audit logs of a machine without provmon into a case (the same ECS documents the sensor writes), attributing each flow to the process whose socket syscalls match it',
    )
    .option('--pcap <file>', 'packet capture (pcap or pcapng) taken on that machine')
    .option('--audit-log <file>', 'raw auditd log (audit.log, rotated audit.log.N, kernel syslog lines); repeatable, read in time order', (v: string, prev: string[] = []) => [...prev, v])
    .option('--events-dir <dir>', 'write the case into a local store in this directory (read it with provmon graph/ui --events-dir)')
    .option('--es <url>', 'write the case into this Elasticsearch instead (auth and TLS from es_config), as logs-provmon.*-<namespace>')
    .option('--namespace <ns>', 'data stream namespace of the case (default: es_config.namespace); lowercase, no "-"')
    .option('--tolerance <seconds>', 'how far apart a socket syscall and the first packet of its flow may be (clock skew, logging delay)', seconds, 2)
    .option('--host-name <name>', 'host.name of the case (default: the audit log\'s node=, else "offline")')
    .option('--json', 'print the summary as JSON on stdout (default: text)')
    .addHelpText(
      'after',
      '\nEvery flow document says how it was attributed (provmon.attribution.method and .confidence); unattributed flows are listed.\n' +
        'The audit ruleset decides what can be attributed: docs/audit.md gives one (execve, connect, accept, bind, sendto).\n' +
        'Records that are not syscalls (logins, PAM, sudo, account changes, services, AVCs) become documents of dataset audit (logs-provmon.audit-<namespace>).\n' +
        'Exit codes: 0 case written; 1 runtime error (unreachable Elasticsearch, unreadable file); 2 bad usage or an input that is not what its flag says.\n' +
        'Examples:\n' +
        '  provmon analyze --pcap host.pcap --audit-log /var/log/audit/audit.log.1 --audit-log /var/log/audit/audit.log --events-dir ./case1\n' +
        '  provmon graph --events-dir ./case1 --poi ip:203.0.113.7\n' +
        '  provmon analyze --pcap host.pcapng --audit-log audit.log --es https://es:9200 --namespace case1',
    );
  addConfigOptions(command).action(async (flags: AnalyzeFlags) => {
    const { analyzeAction } = await import('./analyze-action.ts');
    await analyzeAction(flags);
  });
}
