/**
 * Flow and DNS documents from every committed capture, checked against the official ECS definitions (@elastic/ecs).
 */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ecsReport } from '../../../test/support/ecs-conformance.ts';
import { ecsHost, hostIdentity } from '../model/host.ts';
import { dnsDocument, flowDocument } from './ecs.ts';
import { processCaptureFile } from './pipeline.ts';

const host = ecsHost(hostIdentity('ecs-test'));

describe('ECS conformance of packet documents', () => {
  for (const name of ['lo.pcapng', 'any-sll.pcap', 'multi-if.pcapng']) {
    test(`${name}: every flow and DNS document conforms`, () => {
      const docs: object[] = [];
      processCaptureFile(join(import.meta.dir, 'testdata', name), {
        onFlow: (r) => docs.push(flowDocument(r, { host, capture: { received: 1, dropped: 0, interfaceDropped: 0 } })),
        onDns: (e) => docs.push(dnsDocument(e, { host })),
        dnsQueryEvents: 'all',
      });
      const datasets = new Set(docs.map((d) => (d as { event: { dataset: string } }).event.dataset));
      expect([...datasets].sort()).toEqual(['provmon.dns', 'provmon.flow']);
      expect(ecsReport(docs)).toEqual({});
    });
  }
});
