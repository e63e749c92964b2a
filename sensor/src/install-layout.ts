/**
 * Where files the code reads at run time live: beside the sources in a checkout, or under <prefix>/lib/provmon in
 * the installed package, whose single `bun build --compile` executable keeps its modules in Bun's embedded
 * filesystem (import.meta.url is then under /$bunfs/, which holds no BPF object).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True in the standalone executable built by packaging/build.sh. */
export const IS_COMPILED = import.meta.url.includes('$bunfs') || import.meta.url.includes('~BUN');

/** The repository root of a checkout (this file is sensor/src/install-layout.ts). */
const CHECKOUT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `/usr/bin/provmon` → `/usr/lib/provmon`: relative to the executable, so a staged tree works as well as `/`. */
export function installedLibDir(execPath = process.execPath): string {
  return resolve(dirname(execPath), '../lib/provmon');
}

/** The folder holding build.sh's output (`build/provmon.bpf.o`) and, in a checkout, the BPF sources. */
export function bpfDir(): string {
  return IS_COMPILED ? join(installedLibDir(), 'bpf') : join(CHECKOUT_ROOT, 'bpf');
}

/**
 * The drain thread's module. The compiled executable carries it as a second entrypoint (packaging/build.sh), which
 * Bun stores as ebpf/drain-worker.js beside the main module (Bun.main) in its embedded filesystem.
 */
export function drainWorkerUrl(): string {
  return workerUrl('ebpf/drain-worker');
}

/** The local store's index worker, likewise a second entrypoint of the executable. */
export function indexWorkerUrl(): string {
  return workerUrl('output/local/index-worker');
}

/** The Offline analysis worker (`provmon ui`'s uploads), likewise a second entrypoint of the executable. */
export function analysisWorkerUrl(): string {
  return workerUrl('analyze/worker');
}

const WORKER_MODULES = ['ebpf/drain-worker', 'output/local/index-worker', 'analyze/worker'];

/**
 * The executable's module root in Bun's embedded filesystem. Bun.main is the main module, except inside a worker,
 * where it is the worker's own module (the analysis worker opens a local store, whose index worker is found from here).
 */
function compiledRoot(): string {
  const inWorker = WORKER_MODULES.find((m) => Bun.main.endsWith(`/${m}.js`));
  return inWorker ? Bun.main.slice(0, -`/${inWorker}.js`.length) : dirname(Bun.main);
}

/** `<module>` relative to sensor/src: the .ts beside this file in a checkout, Bun's .js copy in the executable. */
function workerUrl(module: string): string {
  if (IS_COMPILED) return join(compiledRoot(), `${module}.js`);
  return new URL(`./${module}.ts`, import.meta.url).href;
}

/**
 * `provmon ui`'s browser assets prebuilt by packaging/build.sh (the installed package has neither esbuild's binary
 * nor the plugin's sources): <prefix>/share/provmon/ui/<kibana version>/. Undefined in a checkout, which builds them.
 */
export function prebuiltUiDir(): string | undefined {
  return IS_COMPILED ? resolve(installedLibDir(), '../../share/provmon/ui') : undefined;
}
