/** The analysis summary as terminal text: what was read, what was attributed and how, what was not, and when. */
import type { AnalysisSummary } from './analyze.ts';

export function formatSummary(s: AnalysisSummary, where: string): string {
  const out: string[] = [];
  out.push(`case: ${where} (host.name ${s.host.name}, namespace ${s.namespace})`);
  if (s.audit) {
    const a = s.audit.stats;
    const c = a.conversion;
    const byCount = (counts: Record<string, number>, top: number) =>
      Object.entries(counts)
        .sort((x, y) => y[1] - x[1])
        .slice(0, top)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ');
    const skipped = byCount(c.not_syscall, 6);
    const records = byCount(c.audit_records, 12);
    out.push(
      `audit: ${s.audit.files.length} file(s), ${a.lines} lines, ${a.records} records, ${a.group.events} events → ${c.documents} documents` +
        ` (${c.syscall_events} syscall events, ${Object.values(c.audit_records).reduce((a, b) => a + b, 0)} audit records; ${c.other_syscalls} other syscalls, ${c.partial_events} partial, ${c.unknown_syscalls} unknown syscall numbers, ${a.not_audit_lines} non-audit lines, ${a.oversized_lines} oversized)`,
    );
    if (records) out.push(`  logins, sudo, accounts, services… (dataset audit): ${records}`);
    if (skipped) out.push(`  not syscalls (counted, no document): ${skipped}`);
    for (const example of a.examples.slice(0, 2)) out.push(`  unparsed line: ${JSON.stringify(example)}`);
  }
  if (s.pcap) {
    const p = s.pcap;
    out.push(`capture: ${p.file} (${p.format}), ${p.packets} packets, ${p.flows} flows, ${p.dns} DNS messages${p.malformed ? `, ${p.malformed} malformed` : ''}`);
    if (p.error) out.push(`  damaged: ${p.error} (everything before it was analysed)`);
  }
  const docs = Object.entries(s.documents)
    .map(([d, n]) => `${d} ${n}`)
    .join(', ');
  out.push(`documents written: ${docs || 'none'}`);
  const c = s.correlation;
  const methods = Object.entries(c.by_method)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  out.push(`flows attributed to processes: ${c.attributed} of ${c.flows}${methods ? ` (${methods})` : ''}`);
  if (s.top_processes.length) {
    out.push('top processes by bytes:');
    for (const t of s.top_processes.slice(0, 10)) {
      out.push(`  ${String(t.bytes).padStart(12)} B  ${String(t.flows).padStart(5)} flows  pid ${t.process.pid} ${t.process.executable ?? t.process.name ?? '?'}  process:${t.process.entity_id}`);
    }
  }
  if (s.unattributed.length) {
    out.push(`unattributed flows (${c.unattributed}${s.unattributed.length < c.unattributed ? `, first ${s.unattributed.length} listed` : ''}):`);
    for (const u of s.unattributed.slice(0, 15)) {
      out.push(`  ${u.start}  ${u.transport} ${u.source} → ${u.destination}  ${u.bytes} B${u.candidates.length ? `  (${u.candidates.length} candidate processes, none unique)` : ''}`);
    }
    if (s.unattributed.length > 15) out.push(`  … ${s.unattributed.length - 15} more in the JSON summary (--json)`);
  }
  const t = s.timeline;
  if (t.from) {
    out.push(`timeline: ${t.from} → ${t.to}`);
    const peak = Math.max(...t.buckets.map((b) => b.events + b.flows), 1);
    for (const b of t.buckets.slice(0, 60)) {
      const bar = '#'.repeat(Math.max(1, Math.round(((b.events + b.flows) / peak) * 40)));
      out.push(`  ${b.start}  ${bar} ${b.events} events, ${b.flows} flow reports`);
    }
  }
  return `${out.join('\n')}\n`;
}
