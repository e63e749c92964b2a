/**
 * Preloaded by `bun test` (bunfig.toml). Hooks registered here run once for the whole run in
 * Bun 1.4.5 (checked: a preload's afterAll runs after the last test file, not per file).
 *
 * Bun does not emit process 'exit' when a test run ends normally, so the afterAll below is what
 * stops the Elasticsearch nodes. For interrupted runs, SIGINT/SIGTERM/SIGHUP handlers stop them
 * (graceful, bounded) and exit; 'exit' (which does fire on process.exit) SIGKILLs any left over.
 * A run that is SIGKILLed leaves its nodes behind; the next run reaps them (their state files name
 * the owning test process, which is gone).
 */
import { afterAll } from 'bun:test';
import { killAllTestNodesSync, stopAllTestNodes, stopAllTestNodesQuickly } from './es.ts';

// Own timeout: a hook gets bun's 5 s default otherwise, and a busy node may take up to ~25 s to stop.
afterAll(async () => {
  await stopAllTestNodes();
}, 60_000);

let interrupted = false;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // Second signal: no more waiting.
      killAllTestNodesSync();
      process.exit(code);
    }
    interrupted = true;
    void stopAllTestNodesQuickly().finally(() => process.exit(code));
  });
}

process.on('exit', () => {
  killAllTestNodesSync();
});
