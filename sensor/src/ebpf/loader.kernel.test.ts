/**
 * The loader's failure modes, each produced for real: a program the verifier rejects, a
 * process without the capabilities, a kernel without BTF (hidden in a private mount namespace).
 */
import { describe, expect, test, beforeAll, afterAll } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadSensor } from './loader.ts';
import { ProvmonError } from '../errors.ts';
import { canRunKernelTests, tempDir } from './testdata/harness.ts';

const loaderPath = new URL('./loader.ts', import.meta.url).pathname;
const errorsPath = new URL('../errors.ts', import.meta.url).pathname;
const bun = process.execPath;

/** run loadSensor() in a child process (under a wrapper command) and return what it printed */
function loadIn(wrapper: string[]): { code: number; out: string } {
  const script = `import { loadSensor } from '${loaderPath}'; import { describeError } from '${errorsPath}';
try { loadSensor().close(); console.log('LOADED'); } catch (e) { console.log(describeError(e)); process.exit(3); }`;
  const r = Bun.spawnSync([...wrapper, bun, '-e', script], { stdout: 'pipe', stderr: 'pipe' });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

describe.skipIf(!canRunKernelTests)('loader errors (real kernel)', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('loader');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a verifier rejection names the program and quotes the end of the verifier log', () => {
    const obj = join(dir, 'reject.bpf.o');
    const src = new URL('./testdata/reject.bpf.c', import.meta.url).pathname;
    const bpfDir = new URL('../../../bpf/', import.meta.url).pathname;
    const cc = Bun.spawnSync(['clang', '-O2', '-g', '-target', 'bpf', '-mcpu=v3', '-D__TARGET_ARCH_x86', `-I${bpfDir}`, '-c', src, '-o', obj], { stderr: 'pipe' });
    expect(cc.stderr.toString()).toBe('');
    let error: unknown;
    try {
      loadSensor({ objectPath: obj }).close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProvmonError);
    const msg = (error as ProvmonError).message;
    expect(msg).toContain("eBPF program 'tp_rejected_on_purpose'");
    expect(msg).toContain('--- last lines of the verifier log ---');
    expect(msg).toMatch(/R1 invalid mem access 'scalar'/);
    const logLines = msg.split('--- last lines of the verifier log ---\n')[1]!.split('\n');
    expect(logLines.length).toBeGreaterThan(3);
    expect(logLines.length).toBeLessThanOrEqual(20);
  });

  test('without CAP_BPF/CAP_PERFMON (capabilities dropped) the error says what is missing', () => {
    const r = loadIn(['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--']);
    expect(r.code).toBe(3);
    expect(r.out).toContain('eBPF capture needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)');
    expect(r.out).toContain('hint:');
  });

  test('without kernel BTF the error says so', () => {
    // a private mount namespace where /sys/kernel/btf is an empty tmpfs
    const r = loadIn(['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs none /sys/kernel/btf && exec "$@"', 'sh']);
    expect(r.code).toBe(3);
    expect(r.out).toContain('the kernel exposes no BTF at /sys/kernel/btf/vmlinux');
  });

  test('a ring size that is not a power of two is refused before anything loads', () => {
    expect(() => loadSensor({ ringBytes: 5000 })).toThrow(/power of two/);
  });
});
