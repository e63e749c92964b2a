/**
 * Runs every test with `bun test` and ends with the one line CI reads: `tests: N passed, N failed[, N skipped]`,
 * taken from the runner's own JUnit report. A run that executed no test is a failure.
 * Extra arguments are passed to `bun test` (e.g. a path filter).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Counts {
  tests: number;
  failures: number;
  skipped: number;
}

/** Totals from the <testsuites> element bun writes. */
export function junitCounts(xml: string): Counts | undefined {
  const head = /<testsuites\b([^>]*)>/.exec(xml);
  if (!head) return undefined;
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(head[1]!)?.[1] ?? 0);
  return { tests: attr('tests'), failures: attr('failures') + attr('errors'), skipped: attr('skipped') };
}

export function summaryLine(counts: Counts): string {
  const passed = counts.tests - counts.failures - counts.skipped;
  return `tests: ${passed} passed, ${counts.failures} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`;
}

if (import.meta.main) {
  const root = resolve(import.meta.dir, '..');
  const report = resolve(root, '.cache/test-results/junit.xml');
  mkdirSync(resolve(root, '.cache/test-results'), { recursive: true });
  rmSync(report, { force: true });
  // A hang guard, not a speed assertion: integration tests start Elasticsearch nodes and load BPF programs.
  // Passed here because bun 1.4.5 ignores [test] timeout in bunfig.toml.
  const args = ['test', '--timeout=180000', '--reporter=junit', `--reporter-outfile=${report}`, ...process.argv.slice(2)];
  const child = Bun.spawn([process.execPath, ...args], {
    cwd: root,
    stdio: ['inherit', 'inherit', 'inherit'],
  });
  const exitCode = await child.exited;
  let counts: Counts | undefined;
  try {
    counts = junitCounts(readFileSync(report, 'utf8'));
  } catch {
    counts = undefined;
  }
  counts ??= { tests: 0, failures: 0, skipped: 0 };
  // A file that fails to load, or an error thrown outside any test, fails the run without a failed <testcase>.
  if (exitCode !== 0 && counts.failures === 0) {
    process.stderr.write(`bun test exited with ${exitCode} outside any test case: counted as one failure\n`);
    counts = { ...counts, tests: counts.tests + 1, failures: 1 };
  }
  const line = summaryLine(counts);
  process.stdout.write(`${line}\n`);
  if (counts.tests - counts.skipped === 0) {
    process.stderr.write('no test was executed: that is a failure, not a pass\n');
    process.exit(1);
  }
  process.exit(counts.failures > 0 ? 1 : 0);
}
