/**
 * What an offline analysis makes of fixed inputs: the documents in the order written, and the summary. documents.test.ts
 * compares them with analysis.expected.jsonl, written by the analysis before its speed work, so a faster analysis
 * must write byte-for-byte the same case. `bun run sensor/src/analyze/testdata/analysis-snapshot.ts` rewrites the
 * expected file: only for a change to the documents that is meant (say so in the commit).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAnalyzeInputs } from '../../../../bench/analyze.bench.ts';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import type { EventSink } from '../../output/sink.ts';
import { analyzeCase, type AuditSource, type CaptureSource } from '../analyze.ts';
import { curlCaseAudit, LO_PCAPNG } from './curl-case.ts';

export const EXPECTED_ANALYSIS = join(import.meta.dir, 'analysis.expected.jsonl');

class LinesSink implements EventSink {
  readonly name = 'lines';
  readonly lines: string[] = [];
  write(doc: EcsEvent): void {
    this.lines.push(JSON.stringify(doc));
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats(): Record<string, number> {
    return { written: this.lines.length };
  }
}

export const ANALYSIS_CASES = ['curl case (lo.pcapng)', 'bench inputs (600 packets and records)'] as const;

/** One case's summary line (paths replaced by their names) and documents as JSON lines. */
export async function analysisLines(name: (typeof ANALYSIS_CASES)[number]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'provmon-analysis-snapshot-'));
  try {
    let pcap: CaptureSource;
    let audit: AuditSource[];
    if (name === ANALYSIS_CASES[0]) {
      pcap = { path: LO_PCAPNG };
      audit = [{ name: 'curl.log', chunks: [new TextEncoder().encode(curlCaseAudit())] }];
    } else {
      const inputs = writeAnalyzeInputs(dir, 600);
      pcap = { path: inputs.pcap };
      audit = [{ path: inputs.auditLog }];
    }
    const sink = new LinesSink();
    const summary = await analyzeCase({ pcap, audit, sink, namespace: 'snap', hostName: 'snapshot', toleranceMs: 2000 });
    const text = JSON.stringify({ case: name, summary }).replaceAll(dir, '<dir>').replaceAll(LO_PCAPNG, '<lo.pcapng>');
    return [text, ...sink.lines];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const lines: string[] = [];
  for (const name of ANALYSIS_CASES) lines.push(...(await analysisLines(name)));
  writeFileSync(EXPECTED_ANALYSIS, `${lines.join('\n')}\n`);
  console.log(`wrote ${EXPECTED_ANALYSIS}`);
}
