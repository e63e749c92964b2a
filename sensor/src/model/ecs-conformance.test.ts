/**
 * Every kind of document the syscall builder writes, checked against the official ECS definitions (@elastic/ecs).
 * The same check runs over a real sensor's output in run/ecs-conformance.kernel.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { ecsReport, ecsViolations } from '../../../test/support/ecs-conformance.ts';
import { build } from './testdata/session.ts';

describe('ECS conformance of syscall documents', () => {
  const docs = build();

  test('the session covers every action the syscall datasets define', () => {
    const actions = new Set(docs.map((d) => d.event.action));
    for (const a of ['fork', 'exec', 'end', 'already_running', 'uid_change', 'open', 'creation', 'read', 'write', 'deletion', 'rename', 'permission_change', 'socket', 'bind', 'listen', 'connection_attempted', 'connection_accepted', 'send', 'receive', 'disconnect_received']) {
      expect({ a, present: actions.has(a as EcsEvent['event']['action']) }).toEqual({ a, present: true });
    }
  });

  test('every field is ECS or provmon.*, with its ECS type and allowed values', () => {
    expect(ecsReport(docs)).toEqual({});
  });

  test('pipe and unix-socket I/O is there, named by its channel', () => {
    expect(docs.filter((d) => d.provmon?.channel).map((d) => d.file?.path.replace(/[0-9a-f]{16}/, 'ID'))).toEqual(['unix-socket:[ID]', 'pipe:[815]', 'pipe:[815]']);
  });

  test('every document names the host OS', () => {
    for (const d of docs) expect(d.host.os?.type).toBe('linux');
  });
});

describe('the conformance check itself', () => {
  const good = build()[0]!;

  test('catches a number where ECS says keyword (the old dns.id)', () => {
    expect(ecsViolations({ ...good, dns: { type: 'answer', id: 4711 } })).toEqual(['dns.id: keyword expects a string, got 4711']);
  });

  test('catches a field outside ECS and provmon.*', () => {
    expect(ecsViolations({ ...good, flow: { id: 'x' } })).toEqual(['flow.id: not an ECS field (custom fields belong under provmon.*)']);
  });

  test('catches a disallowed or unexpected categorisation value', () => {
    expect(ecsViolations({ ...good, event: { ...good.event, type: ['connection'] } })).toEqual(['event.type: connection is not expected for category process']);
    expect(ecsViolations({ ...good, event: { ...good.event, kind: 'log' } })).toEqual(['event.kind: "log" is not an allowed value']);
  });

  test('catches a scalar where ECS normalises to an array, and a bad ip', () => {
    expect(ecsViolations({ ...good, event: { ...good.event, category: 'process' } })).toContain('event.category: ECS normalises this field to an array');
    expect(ecsViolations({ ...good, source: { ip: 'localhost' } })).toEqual(['source.ip: ip expects an IPv4/IPv6 address, got "localhost"']);
  });
});
