/**
 * The documents (and read statistics) the audit reader makes of fixed inputs: every committed sample, the benchmark's
 * synthetic log, and mutated lines. documents.test.ts compares them with documents.expected.jsonl, which was written
 * by the reader before its speed work, so a faster parser must give byte-for-byte the same documents.
 * `bun run sensor/src/audit/testdata/document-snapshot.ts` rewrites the expected file: only for a change to the
 * documents that is meant (say so in the commit).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchAuditLog } from '../../../../bench/audit-log.ts';
import { AuditLogReader } from '../reader.ts';
import { mutatedLines } from './mutate.ts';
import * as samples from './samples.ts';

export const EXPECTED_DOCUMENTS = join(import.meta.dir, 'documents.expected.jsonl');

const host = { id: 'c'.repeat(32), name: 'snapshot', bootTimeMs: 0 };

export interface SnapshotCase {
  name: string;
  /** one entry per input file of the case (rotated logs go through one reader) */
  inputs: string[];
  maxOpen?: number;
}

export function snapshotCases(): SnapshotCase[] {
  const each: [string, string[]][] = [
    ['debianCurl', samples.debianCurl()],
    ['rhelEnriched', samples.rhelEnriched()],
    ['rhel7Files', samples.rhel7Files()],
    ['syslogKernel', samples.syslogKernel()],
    ['splitExecve', samples.splitExecve()],
    ['debianUserRecords', samples.debianUserRecords()],
    ['ubuntuUserRecords', samples.ubuntuUserRecords()],
    ['rhel7UserRecords', samples.rhel7UserRecords()],
    ['rhel9UserRecords', samples.rhel9UserRecords()],
    ['syslogUserRecord', samples.syslogUserRecord()],
    ['curlConnect', samples.curlConnect('1795520759', '127.0.80.1', 8080)],
  ];
  const text = (lines: string[]) => `${lines.join('\n')}\n`;
  const dir = mkdtempSync(join(tmpdir(), 'provmon-audit-snapshot-'));
  let bench: string;
  try {
    const path = join(dir, 'audit.log');
    writeBenchAuditLog(path, 450, { startSec: 1_800_000_000, spanSec: 30, destinations: [{ ip: '127.0.0.1', port: 80 }, { ip: '10.1.2.3', port: 443 }] });
    bench = readFileSync(path, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    ...each.map(([name, lines]) => ({ name, inputs: [text(lines)] })),
    // all samples as one host's rotated logs: process identity carries across files
    { name: 'all samples, one reader', inputs: each.map(([, lines]) => text(lines)) },
    { name: 'bench log', inputs: [bench] },
    // mutated lines, with few open events so the bounds close events too
    ...[11, 12, 13].map((seed) => ({ name: `mutated seed ${seed}`, inputs: [mutatedLines(seed, 3000).join('\n')], maxOpen: 64 })),
  ];
}

/** One case's documents and statistics as JSON lines; `chunkBytes` cuts the input so lines straddle chunks. */
export async function caseDocuments(c: SnapshotCase, chunkBytes = 1 << 20): Promise<string[]> {
  const out: string[] = [];
  const reader = new AuditLogReader({ host, namespace: 'snap', ...(c.maxOpen ? { group: { maxOpen: c.maxOpen } } : {}), onDocument: (d) => out.push(JSON.stringify(d)) });
  const enc = new TextEncoder();
  for (const [i, input] of c.inputs.entries()) {
    const bytes = enc.encode(input);
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += chunkBytes) chunks.push(bytes.subarray(o, o + chunkBytes));
    await reader.read({ name: `${c.name} ${i}`, chunks });
  }
  const stats = reader.finish();
  return [JSON.stringify({ case: c.name, stats }), ...out];
}

/** An expected file's lines by case: each case is a header line {"case": name, …} and the lines after it. */
export function linesByCase(path: string): Map<string, string[]> {
  const byCase = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    if (line.startsWith('{"case":')) byCase.set((JSON.parse(line) as { case: string }).case, (current = []));
    current.push(line);
  }
  return byCase;
}

export async function snapshotText(chunkBytes?: number): Promise<string> {
  const lines: string[] = [];
  for (const c of snapshotCases()) lines.push(...(await caseDocuments(c, chunkBytes)));
  return `${lines.join('\n')}\n`;
}

if (import.meta.main) {
  writeFileSync(EXPECTED_DOCUMENTS, await snapshotText());
  console.log(`wrote ${EXPECTED_DOCUMENTS}`);
}
