#!/usr/bin/env bun
import { Command, CommanderError } from 'commander';
import { describeError, ProvmonError } from '../errors.ts';
import { maskUrlCredentials } from '../secrets.ts';
import { PROVMON_VERSION } from '../version.ts';
import { registerAnalyze } from './analyze.ts';
import { registerDoctor } from './doctor.ts';
import { registerGenerateActivity } from './generate-activity.ts';
import { registerGraph } from './graph.ts';
import { registerRun } from './run.ts';
import { registerSetup } from './setup.ts';
import { registerUi } from './ui.ts';
import { registerVersion } from './version.ts';

export function buildProgram(): Command {
  const program = new Command('provmon')
    .description('Elasticsearch-native security sensor (eBPF syscalls + packets) and provenance analysis')
    .version(PROVMON_VERSION, '-V, --version', 'print the provmon version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit codes: 0 ok (also after a graceful stop on SIGINT, SIGTERM or SIGHUP), 1 runtime error, 2 bad usage or configuration\n' +
        '(the key or flag is named), 65 damaged input file (what could be read was processed), 77 missing privileges or kernel\n' +
        'support (provmon doctor says which).\n' +
        'Configuration: defaults < config file < PROVMON_<SECTION>__<KEY> environment variables < flags (schema: schema/config.schema.json).',
    );
  registerRun(program);
  registerSetup(program);
  registerGraph(program);
  registerAnalyze(program);
  registerGenerateActivity(program);
  registerDoctor(program);
  registerUi(program);
  registerVersion(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version arrive here too, with exit code 0; commander has already printed them.
      return error.exitCode === 0 ? 0 : 2;
    }
    // Errors may quote a URL given on the command line; its password is never echoed back.
    process.stderr.write(`provmon: ${maskUrlCredentials(describeError(error))}\n`);
    return error instanceof ProvmonError ? error.exitCode : 1;
  }
}

if (import.meta.main) {
  // `provmon graph ... | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  process.exitCode = await main(process.argv.slice(2));
}
