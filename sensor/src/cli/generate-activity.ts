import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Profile } from '../activity/generate.ts';

export interface GenerateFlags {
  duration: number;
  profile: Profile;
  manifest?: string;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 86_400) throw new InvalidArgumentError('expected seconds between 0 and 86400');
  return n;
}

export function registerGenerateActivity(program: Command): void {
  program
    .command('generate-activity')
    .description(
      'run labelled normal and suspicious activity on this machine (file I/O, process trees, local HTTP; reconnaissance, reading /etc/shadow, persistence into sandbox copies of crontab/systemd, exfiltration to a local listener, a renamed binary, a self-deleting script, timestomping, a loopback port scan) and write the ground truth as JSONL',
    )
    .option('--duration <seconds>', 'repeat the profile until this many seconds passed (0: one round)', seconds, 0)
    .addOption(new Option('--profile <profile>', 'which actions').choices(['normal', 'suspicious', 'mixed']).default('mixed'))
    .option('--manifest <file>', 'write the ground-truth manifest here (JSONL: time, category, action, technique, pids, files, endpoints); default: stdout')
    .addHelpText(
      'after',
      '\nSafe on a real machine, also as root: it writes only in a temporary sandbox directory it removes at the end,\n' +
        'reads system files without changing them, and connects only to 127.0.0.1. Pair it with `provmon run` to measure\n' +
        'what the sensor sees; docs/audit.md lists the actions and their ATT&CK techniques.\n' +
        'Exit codes: 0 done (an action whose program failed, e.g. reading /etc/shadow as a user, is still recorded with ok=false); 2 bad usage.',
    )
    .action(async (flags: GenerateFlags) => {
      const { generateActivity } = await import('../activity/generate.ts');
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await generateActivity({
          profile: flags.profile,
          durationS: flags.duration,
          signal: ac.signal,
          ...(flags.manifest ? { manifest: flags.manifest } : { onEntry: (e) => process.stdout.write(`${JSON.stringify(e)}\n`) }),
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
