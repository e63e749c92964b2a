import { loadConfig, redactConfig, type LoadedConfig } from '../config/load.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { flagValues, type ConfigFlags } from './options.ts';

export interface CommandContext {
  loaded: LoadedConfig;
  log: Logger;
}

/** Loads and validates the configuration, then makes the logger it asks for and reports what was read. */
export function openContext(flags: ConfigFlags, dedicated: Record<string, { value: unknown; flag: string }> = {}): CommandContext {
  const loaded = loadConfig({ ...(flags.config ? { file: flags.config } : {}), flags: flagValues(flags, dedicated) });
  const log = createLogger({ level: loaded.config.log_level, ...(flags.logFormat ? { format: flags.logFormat } : {}) });
  log.debug({ file: loaded.file ?? '(none: defaults)', config: redactConfig(loaded.config) }, 'configuration loaded');
  for (const warning of loaded.warnings) log.warn(warning);
  return { loaded, log };
}
