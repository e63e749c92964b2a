/**
 * Fault injection: names that are not valid UTF-8 under the real sensor (root, eBPF; issue 13 item 5). Files
 * `bad\xff\xfe`, `bad\xfe\xff` and a real `bad\uFFFD\uFFFD` are created by a separate process, and a program is run
 * with such an argument. They used to collapse into one `file.path`; now each stays distinct in the documents and
 * in the provenance graph, escaped fields are listed in provmon.escaped_fields, and the raw bytes come back.
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ProvenanceGraph } from '../../../../kibana-plugin/common/graph/index.ts';
import { bytesOfName } from '../../../../kibana-plugin/common/escaped-names.ts';
import { startSensor } from '../../../../test/support/sensor.ts';

setDefaultTimeout(120_000);
const ROOT = resolve(import.meta.dir, '../../../..');
const canRun = process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux');
const work = mkdtempSync(join(tmpdir(), 'provmon-names-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// python3 writes the files with byte paths (no UTF-8 decoding on the way) and runs /bin/echo with a raw argument.
const MAKE_FILES = `
import os, subprocess, sys
d = sys.argv[1].encode()
for tail in (b'bad\\xff\\xfe', b'bad\\xfe\\xff', 'bad\\ufffd\\ufffd'.encode()):
    with open(os.path.join(d, tail), 'wb') as f:
        f.write(b'x')
subprocess.run([b'/bin/echo', b'arg\\xff' + d], stdout=subprocess.DEVNULL)
`;

test.skipIf(!canRun)('distinct byte strings stay distinct in documents and graph, and their bytes are recoverable', async () => {
  const sensor = await startSensor({ args: ['--duration', '60'] });
  const made = Bun.spawnSync(['python3', '-c', MAKE_FILES, work]);
  expect(made.exitCode).toBe(0);
  // The store is flushed every second: wait (bounded) until the files show up, then stop.
  const seen = () => existsSync(join(sensor.eventsDir, 'forensic-events.jsonl')) && readFileSync(join(sensor.eventsDir, 'forensic-events.jsonl'), 'utf8').split(`${work}/bad`).length > 6;
  for (let i = 0; i < 60 && !seen(); i++) await Bun.sleep(250);
  const summary = await sensor.stop();
  const events = sensor.events();
  const dirBytes = Buffer.from(work);
  const expected = [Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]), Buffer.from([0x62, 0x61, 0x64, 0xfe, 0xff]), Buffer.from('bad\uFFFD\uFFFD')].map((t) =>
    Buffer.concat([dirBytes, Buffer.from('/'), t]),
  );

  // the kernel says these opens created the files: action creation (docs/events.md)
  const creations = events.filter((e) => e.file?.path.startsWith(`${work}/bad`) && e.event.action === 'creation' && e.provmon?.open?.flags.includes('O_CREAT'));
  const paths = [...new Set(creations.map((e) => e.file!.path))];
  expect(paths.length, `files seen: ${JSON.stringify(paths)}; sensor summary: ${JSON.stringify(summary)}`).toBe(3);
  expect(paths.map((p) => Buffer.from(bytesOfName(p))).sort(Buffer.compare)).toEqual([...expected].sort(Buffer.compare));
  for (const e of creations) {
    const escaped = e.file!.path.includes('\\x');
    expect(e.provmon?.escaped_fields?.includes('file.path') ?? false).toBe(escaped);
  }
  expect(paths).toContain(`${work}/bad\uFFFD\uFFFD`); // the real replacement characters are kept as they are

  const echo = events.find((e) => e.event.action === 'exec' && e.process?.executable === '/usr/bin/echo' && e.process.args?.[1]?.startsWith('arg'));
  expect(echo?.process?.args?.[1]).toBe(`arg\\xff${work}`);
  expect(echo?.provmon?.escaped_fields).toContain('process.args');

  // The graph keeps them apart too: forward from each file, each is its own node.
  for (const p of paths) {
    const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'graph', '--poi', `file:${p}`, '--direction', 'backward', '--events-dir', sensor.eventsDir, '--format', 'json'], { cwd: ROOT });
    expect(r.exitCode).toBe(0);
    const g = JSON.parse(r.stdout.toString()) as ProvenanceGraph;
    const files = g.nodes.filter((n) => n.kind === 'file' && n.path?.startsWith(`${work}/bad`));
    expect(files.map((n) => n.path)).toEqual([p]);
  }
});
