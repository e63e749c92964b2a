/**
 * An audit log that goes with sensor/src/pcap/testdata/lo.pcapng: curl (pid 4242) runs and connects to the HTTP
 * server that the capture's flows 52240/52242 → 127.0.80.1:8080 reach, so both flows belong to curl.
 */
import { resolve } from 'node:path';
import { curlConnect } from '../../audit/testdata/samples.ts';

export const LO_PCAPNG = resolve(import.meta.dir, '../../pcap/testdata/lo.pcapng');

export function curlCaseAudit(): string {
  return `${curlConnect('1795520759', '127.0.80.1', 8080).join('\n')}\n`;
}
