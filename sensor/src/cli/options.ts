import { Option, type Command } from 'commander';
import { LOG_LEVELS } from '../config/log-levels.ts';
import { ProvmonError } from '../errors.ts';

/** Options every configuration-reading subcommand shares. */
export interface ConfigFlags {
  config?: string;
  set?: string[];
  logLevel?: string;
  logFormat?: 'json' | 'pretty';
}

export function addConfigOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (default: $PROVMON_CONFIG, /etc/provmon/config.json, /var/monitoring/config.json)')
    .option(
      '--set <key=value>',
      'set any configuration key by its dotted path, e.g. --set pcap_config.flow_timeout=60 (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(new Option('--log-level <level>', 'log verbosity').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'log line format on stderr (default: pretty on a terminal, else json)').choices(['json', 'pretty']));
}

/** Turns --set entries and dedicated flags into the loader's flag map (flags win over env, env over the file). */
export function flagValues(flags: ConfigFlags, dedicated: Record<string, { value: unknown; flag: string }> = {}): Record<string, { value: unknown; flag: string }> {
  const out: Record<string, { value: unknown; flag: string }> = {};
  for (const entry of flags.set ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ProvmonError(`--set ${entry}: expected key=value, e.g. --set pcap_config.flow_timeout=60`, { exitCode: 2 });
    out[entry.slice(0, eq).trim()] = { value: entry.slice(eq + 1), flag: `--set ${entry.slice(0, eq).trim()}` };
  }
  if (flags.logLevel) out.log_level = { value: flags.logLevel, flag: '--log-level' };
  for (const [path, v] of Object.entries(dedicated)) if (v.value !== undefined) out[path] = v;
  return out;
}

