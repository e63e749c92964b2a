import type { Command } from 'commander';
import { addConfigOptions, type ConfigFlags } from './options.ts';

export interface DoctorFlags extends ConfigFlags {
  json?: boolean;
  load?: boolean;
}

export function registerDoctor(program: Command): void {
  const command = program
    .command('doctor')
    .description(
      'check whether capture can work on this host: kernel, BTF, tracefs, privileges, the compiled eBPF object, each optional ' +
        'kernel feature (probed, with the fallback that replaces it), a full load of the sensor, and libpcap; ' +
        'exits 0 when capture can work, 77 (with a fix per problem) when it cannot',
    )
    .option('--json', 'print the checks as one JSON object')
    .option('--no-load', 'skip the full load-and-attach of the eBPF sensor (the slowest check)');
  addConfigOptions(command).action(async (flags: DoctorFlags) => {
    const { doctorAction } = await import('./doctor-action.ts');
    process.exitCode = await doctorAction(flags);
  });
}
