import type { Command } from 'commander';
import { release } from 'node:os';
import { PROVMON_VERSION } from '../version.ts';

export function versionInfo(): Record<string, string> {
  return { provmon: PROVMON_VERSION, bun: Bun.version, kernel: release(), arch: process.arch };
}

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the provmon, Bun and kernel versions')
    .option('--json', 'print them as one JSON object')
    .action((options: { json?: boolean }) => {
      const info = versionInfo();
      process.stdout.write(options.json ? `${JSON.stringify(info)}\n` : `provmon ${info.provmon} (bun ${info.bun}, linux ${info.kernel}, ${info.arch})\n`);
    });
}
