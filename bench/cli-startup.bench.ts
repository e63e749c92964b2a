import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../sensor/src/config/load.ts';
import type { Benchmark } from './harness.ts';

const ROOT = resolve(import.meta.dir, '..');
const SEED = resolve(ROOT, 'test/fixtures/seed-config.json');
const BUN = process.execPath;

function wallMs(argv: string[]): number {
  const start = Bun.nanoseconds();
  const result = Bun.spawnSync(argv, { cwd: ROOT, env: { ...process.env, PROVMON_LOG_FORMAT: 'json' } });
  const ms = (Bun.nanoseconds() - start) / 1e6;
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${result.exitCode}: ${result.stderr.toString()}`);
  return ms;
}

/** Process start-up: what a user waits for on every `provmon` call, against a bare Bun start. */
export const cliStartup: Benchmark = {
  name: 'CLI start-up',
  unit: 'ms per process',
  better: 'lower',
  rounds: 9,
  baseline: { label: 'bun -e 0 (bare runtime)', measure: () => wallMs([BUN, '-e', '0']) },
  cases: [
    { label: 'provmon version', measure: () => wallMs([resolve(ROOT, 'bin/provmon'), 'version']) },
    {
      label: 'provmon run --print-config (seed config)',
      measure: () => wallMs([resolve(ROOT, 'bin/provmon'), 'run', '--config', SEED, '--print-config']),
    },
  ],
};

const LOOPS = 2000;

/** Reading and validating the configuration, against reading and JSON-parsing the same file. */
export const configLoad: Benchmark = {
  name: 'config load',
  unit: 'µs per load',
  better: 'lower',
  rounds: 7,
  baseline: {
    label: 'readFile + JSON.parse',
    measure: () => {
      const start = Bun.nanoseconds();
      for (let i = 0; i < LOOPS; i++) JSON.parse(readFileSync(SEED, 'utf8'));
      return (Bun.nanoseconds() - start) / 1e3 / LOOPS;
    },
  },
  cases: [
    {
      label: 'loadConfig (read, merge env, validate)',
      measure: () => {
        const start = Bun.nanoseconds();
        for (let i = 0; i < LOOPS; i++) loadConfig({ file: SEED, env: {}, defaultFiles: [] });
        return (Bun.nanoseconds() - start) / 1e3 / LOOPS;
      },
    },
  ],
};
