/**
 * The .deb end to end, on this machine (needs root: dpkg, a system user, capabilities): build it (and an older build
 * to upgrade from), lintian, install, `provmon version` and `doctor` from /usr/bin, the sensor unit's ExecStart run as
 * the unit runs it (its user, its capabilities, its working directory), one capability missing, upgrade, purge.
 * The package is purged at the end, whatever happened.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../kibana-plugin/common/ecs.ts';
import { parseUnit, setprivCommand } from './unit-file.ts';

const ROOT = resolve(import.meta.dir, '..');
const isRoot = process.getuid?.() === 0;
const PREVIOUS_VERSION = '0.0.0~previous';
const SENSOR_UNIT = '/usr/lib/systemd/system/provmon-sensor.service';
const UI_UNIT = '/usr/lib/systemd/system/provmon-ui.service';
const INSTALLED_PATHS = ['/usr/bin/provmon', '/usr/lib/provmon', '/usr/share/provmon', '/etc/provmon', '/var/lib/provmon', SENSOR_UNIT, UI_UNIT];
const TEST_HOSTNAME = 'deb-test-host';

function run(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = Bun.spawnSync(cmd, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdout: 'pipe', stderr: 'pipe' });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function mustRun(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}): string {
  const r = run(cmd, options);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

function installedVersion(): string | undefined {
  const r = run(['dpkg-query', '-W', '-f=${Status} ${Version}', 'provmon']);
  return r.code === 0 && r.stdout.startsWith('install ok installed') ? r.stdout.split(' ').pop() : undefined;
}

function buildDeb(version?: string): string {
  const out = mustRun(['bash', 'packaging/build.sh'], { env: version ? { PROVMON_DEB_VERSION: version } : {} });
  return join(ROOT, out.trim().split('\n').pop()!);
}

/** JSON log lines of a running sensor, as they arrive. */
async function* jsonLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        yield JSON.parse(line) as Record<string, unknown>;
      } catch {
        // not a log record (a libbpf line): ignore
      }
    }
  }
}

let previousDeb = '';
let currentDeb = '';

describe.skipIf(!isRoot)('the provmon .deb (needs root: installs the package on this machine, then purges it)', () => {
  beforeAll(() => {
    if (installedVersion()) throw new Error('provmon is already installed on this machine: this test installs and purges it, so remove it first (dpkg -P provmon)');
    previousDeb = buildDeb(PREVIOUS_VERSION);
    currentDeb = buildDeb();
  }, 900_000);

  afterAll(() => {
    if (installedVersion()) run(['dpkg', '-P', 'provmon']);
  });

  test('lintian finds no error (its warnings are printed)', () => {
    const r = run(['lintian', '--tag-display-limit', '0', currentDeb]);
    const tags = r.stdout.split('\n').filter((l) => /^[EWI]: /.test(l));
    process.stderr.write(`lintian on ${currentDeb}:\n${tags.join('\n') || '(nothing)'}\n`);
    expect(tags.filter((l) => l.startsWith('E: '))).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain('is not a Debian package');
  }, 300_000);

  test('installs: a provmon system user, a 0600 conffile it owns, a 0700 state directory, and both units verify', () => {
    mustRun(['dpkg', '-i', previousDeb]);
    expect(installedVersion()).toBe(`${PREVIOUS_VERSION}-1`);
    const uid = Number(mustRun(['id', '-u', 'provmon']).trim());
    expect(uid).toBeGreaterThan(0);
    const conf = statSync('/etc/provmon/config.json');
    expect(conf.mode & 0o777).toBe(0o600);
    expect(conf.uid).toBe(uid);
    const state = statSync('/var/lib/provmon');
    expect(state.mode & 0o777).toBe(0o700);
    expect(state.uid).toBe(uid);
    expect(readFileSync('/var/lib/dpkg/info/provmon.conffiles', 'utf8')).toContain('/etc/provmon/config.json');
    // systemd-analyze verify loads the units as systemd would (it also checks that ExecStart's executable exists)
    const verify = run(['systemd-analyze', 'verify', SENSOR_UNIT, UI_UNIT]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    for (const unit of [SENSOR_UNIT, UI_UNIT]) {
      const security = run(['systemd-analyze', 'security', '--offline=yes', unit]);
      process.stderr.write(`${security.stdout.split('\n').find((l) => l.includes('Overall exposure')) ?? security.stderr}\n`);
    }
  }, 120_000);

  test('provmon version and provmon doctor run from /usr/bin with the installed BPF object', () => {
    const version = mustRun(['/usr/bin/provmon', 'version'], { cwd: '/' });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toContain(`provmon ${pkg.version}`);
    const doctor = run(['/usr/bin/provmon', 'doctor'], { cwd: '/' });
    expect(doctor.stdout).toContain('/usr/lib/provmon/bpf/build/provmon.bpf.o (current)');
    expect(doctor.stdout).toContain('capture can work on this host');
    expect(doctor.code).toBe(0);
  }, 120_000);

  test("the sensor unit's ExecStart, run as the unit runs it (user provmon, only its capabilities), captures an exec", async () => {
    const config = JSON.parse(readFileSync('/etc/provmon/config.json', 'utf8')) as Record<string, unknown>;
    writeFileSync('/etc/provmon/config.json', JSON.stringify({ ...config, hostname: TEST_HOSTNAME, stats_interval: 1 }, null, 2));
    const unit = parseUnit(readFileSync(SENSOR_UNIT, 'utf8'));
    expect(unit.user).toBe('provmon');
    expect(unit.capabilities).toEqual(['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_RAW', 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE', 'CAP_DAC_READ_SEARCH']);
    const sensor = Bun.spawn(setprivCommand(unit), { cwd: unit.workingDirectory, env: { PATH: '/usr/bin:/bin', INVOCATION_ID: 'deb-test' }, stdout: 'ignore', stderr: 'pipe' });
    const log: Record<string, unknown>[] = [];
    let attached = false;
    const marker = `provmon-deb-${crypto.randomUUID()}`;
    // a sensor that never attaches is killed, so the test fails instead of leaving it running
    const guard = setTimeout(() => sensor.kill('SIGKILL'), 60_000);
    try {
      for await (const record of jsonLines(sensor.stderr)) {
        log.push(record);
        // 'eBPF capture attached' carries the program count; packet capture names its interface
        if (record.programs !== undefined) attached = true;
        if (attached && log.some((r) => r.interface !== undefined)) break;
      }
      expect(attached).toBe(true);
      mustRun(['/bin/echo', marker]);
      await Bun.sleep(1500);
    } finally {
      sensor.kill('SIGTERM');
      setTimeout(() => sensor.kill('SIGKILL'), 60_000).unref();
      clearTimeout(guard);
    }
    for await (const record of jsonLines(sensor.stderr)) log.push(record);
    expect(await sensor.exited).toBe(0);
    expect(log.filter((r) => (r.level as number) >= 50)).toEqual([]);
    const events = readFileSync('/var/lib/provmon/events/forensic-events.jsonl', 'utf8');
    const exec = events.split('\n').find((l) => l.includes(marker));
    expect(exec).toBeDefined();
    const doc = JSON.parse(exec!) as { host: { name: string }; process: { executable: string } };
    expect(doc.host.name).toBe(TEST_HOSTNAME);
    expect(doc.process.executable).toBe('/usr/bin/echo');
    // health documents go to the same output: the local store's sensor-health stream
    const health = readFileSync('/var/lib/provmon/events/sensor-health.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as EcsEvent);
    expect(health.length).toBeGreaterThan(0);
    expect(health[0]!.host.name).toBe(TEST_HOSTNAME);
    expect(health[0]!.provmon?.health?.capture).toEqual({ ebpf: true, pcap: true });
    expect(statSync('/var/lib/provmon/events/forensic-events.jsonl').uid).toBe(Number(mustRun(['id', '-u', 'provmon']).trim()));
  }, 120_000);

  test("the console unit's ExecStart, as provmon with no capability, serves the app and the captured host's overview", async () => {
    const unit = parseUnit(readFileSync(UI_UNIT, 'utf8'));
    expect(unit.user).toBe('provmon');
    expect(unit.capabilities).toEqual([]);
    // --port 0: the unit's default port (5602) may be taken on a test machine
    const ui = Bun.spawn([...setprivCommand(unit), '--port', '0'], { cwd: unit.workingDirectory, env: { PATH: '/usr/bin:/bin', INVOCATION_ID: 'deb-test' }, stdout: 'pipe', stderr: 'pipe' });
    const guard = setTimeout(() => ui.kill('SIGKILL'), 60_000);
    try {
      const reader = ui.stdout.getReader();
      const first = await reader.read();
      reader.releaseLock();
      const url = new TextDecoder().decode(first.value ?? new Uint8Array()).trim().split('\n')[0]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
      const base = url.replace(/\/+$/, '').replace(/\/app\/provmon$/, '');
      const page = await fetch(`${base}/app/provmon`);
      expect(page.status).toBe(200);
      const overview = (await (await fetch(`${base}/api/provmon/overview?from=1h&to=now`)).json()) as { hosts: { name: string; drops: number | null }[]; datasets: Record<string, number> };
      const host = overview.hosts.find((h) => h.name === TEST_HOSTNAME);
      expect(host).toBeDefined();
      expect(overview.datasets.process).toBeGreaterThan(0);
      expect(overview.datasets.health).toBeGreaterThan(0);
      expect(typeof host!.drops).toBe('number'); // from the host's health documents
    } finally {
      clearTimeout(guard);
      ui.kill('SIGTERM');
    }
    expect(await ui.exited).toBe(0);
  }, 120_000);

  for (const [dropped, says] of [
    ['CAP_PERFMON', 'lacks CAP_PERFMON'],
    ['CAP_NET_RAW', 'packet capture needs CAP_NET_RAW'],
    ['CAP_DAC_READ_SEARCH', 'lacks CAP_DAC_READ_SEARCH'],
  ] as const) {
    test(`without ${dropped} the unit's command fails with a sentence naming it (exit 77)`, () => {
      const unit = parseUnit(readFileSync(SENSOR_UNIT, 'utf8'));
      const r = run(setprivCommand({ ...unit, capabilities: unit.capabilities.filter((c) => c !== dropped) }), { cwd: unit.workingDirectory!, env: { INVOCATION_ID: 'deb-test' } });
      expect(r.stderr).toContain(says);
      expect(r.stderr).not.toContain('    at ');
      expect(r.code).toBe(77);
    }, 120_000);
  }

  test('under the unit, a configuration holding a password that others can read is refused (exit 2), with the chmod', () => {
    const original = readFileSync('/etc/provmon/config.json', 'utf8');
    try {
      const config = JSON.parse(original) as Record<string, unknown>;
      writeFileSync('/etc/provmon/config.json', JSON.stringify({ ...config, es_config: { es_password: 'not-a-real-secret' } }));
      chmodSync('/etc/provmon/config.json', 0o644);
      const unit = parseUnit(readFileSync(SENSOR_UNIT, 'utf8'));
      const r = run(setprivCommand(unit), { cwd: unit.workingDirectory!, env: { INVOCATION_ID: 'deb-test' } });
      expect(r.stderr).toContain('refusing to start as a systemd service');
      expect(r.stderr).toContain('chmod 600 /etc/provmon/config.json');
      expect(r.stderr).not.toContain('not-a-real-secret');
      expect(r.code).toBe(2);
    } finally {
      writeFileSync('/etc/provmon/config.json', original);
      chmodSync('/etc/provmon/config.json', 0o600);
    }
  }, 120_000);

  test('an upgrade keeps the edited configuration, its mode and the data', () => {
    writeFileSync('/var/lib/provmon/events/keep.marker', 'kept\n');
    const configBefore = readFileSync('/etc/provmon/config.json', 'utf8');
    const eventsBefore = statSync('/var/lib/provmon/events/forensic-events.jsonl').size;
    mustRun(['dpkg', '-i', currentDeb], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    expect(installedVersion()).not.toBe(`${PREVIOUS_VERSION}-1`);
    expect(readFileSync('/etc/provmon/config.json', 'utf8')).toBe(configBefore);
    expect(statSync('/etc/provmon/config.json').mode & 0o777).toBe(0o600);
    expect(readFileSync('/var/lib/provmon/events/keep.marker', 'utf8')).toBe('kept\n');
    expect(statSync('/var/lib/provmon/events/forensic-events.jsonl').size).toBe(eventsBefore);
  }, 120_000);

  test('dpkg -P leaves nothing: files, state, configuration and the provmon user are gone', () => {
    mustRun(['dpkg', '-P', 'provmon']);
    expect(installedVersion()).toBeUndefined();
    expect(INSTALLED_PATHS.filter((p) => existsSync(p))).toEqual([]);
    // /var/cache/provmon is the Elasticsearch test node's download cache (scripts/es-node), not the package's
    const leftovers = run(['find', '/etc', '/usr', '/var/lib', '/var/cache', '-xdev', '-path', '/var/cache/provmon', '-prune', '-o', '-name', '*provmon*', '-print'])
      .stdout.split('\n')
      .filter(Boolean);
    expect(leftovers).toEqual([]);
    expect(run(['getent', 'passwd', 'provmon']).code).not.toBe(0);
    expect(run(['getent', 'group', 'provmon']).code).not.toBe(0);
  }, 120_000);
});
