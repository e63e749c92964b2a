/**
 * The events search covers the audit dataset of an analysed case: a sudo, a failed su and an account change (parsed
 * from Debian's ENRICHED audit lines) are found by action and by account name, show the account as their target, and
 * the local index counts them exactly as reading the window does.
 */
import { afterAll, expect, test } from 'bun:test';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { scanEvents, type EventsQuery } from '../../../kibana-plugin/common/search/events.ts';
import { AuditLogReader } from '../audit/reader.ts';
import { debianUserRecords } from '../audit/testdata/samples.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { LocalStoreSource } from './local-source.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

afterAll(removeTempDirs);

async function caseStore(): Promise<{ source: LocalStoreSource; docs: EcsEvent[] }> {
  const docs: EcsEvent[] = [];
  const reader = new AuditLogReader({ host: { id: 'c'.repeat(32), name: 'case-host', bootTimeMs: 0 }, namespace: 'case1', onDocument: (d) => docs.push(d) });
  await reader.read({ name: 'audit.log', chunks: [new TextEncoder().encode(`${debianUserRecords().join('\n')}\n`)] });
  reader.finish();
  const dir = tempDir('provmon-audit-events-');
  const store = new LocalStore({ dir });
  for (const d of docs) store.write(d);
  store.close();
  return { source: LocalStoreSource.open(dir), docs };
}

const query = (filter: EventsQuery['filter']): EventsQuery => ({ window: {}, filter, sort: 'asc', size: 100, page: 0 });

test('audit records of a case are searched: by action through the index, by account name as free text, with the account as target', async () => {
  const { source, docs } = await caseStore();
  try {
    const audit = docs.filter((d) => d.event.dataset === 'provmon.audit');
    expect(audit.length).toBeGreaterThan(5);

    const all = source.eventsAnswer(query({}))!;
    expect(all.total).toBe(audit.length);
    expect(all).toEqual({ ...(await scanEvents(source, query({}))), scanned: all.scanned });

    const added = source.eventsAnswer(query({ actions: ['added-user-account'] }))!;
    expect(added.total).toBe(1);
    expect(added.events[0]!.target).toBe('mallory');

    const failed = source.eventsAnswer(query({ outcome: 'failure' }))!;
    expect(failed.events.map((e) => e.event.action)).toContain('authenticated');

    // account names are free text: not in the index, the route reads the window
    expect(source.eventsAnswer(query({ text: 'mallory' }))).toBeUndefined();
    const byName = await scanEvents(source, query({ text: 'mallory' }));
    expect(byName.events.map((e) => e.event.action).sort()).toEqual(['added-user-account', 'changed-password']);
  } finally {
    source.close();
  }
});
