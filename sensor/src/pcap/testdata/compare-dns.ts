/**
 * DNS messages as tshark decodes them (UDP and reassembled TCP), normalised so provmon's DnsEvents
 * can be compared one to one.
 */
import type { DnsEvent } from '../pipeline.ts';
import { tsharkFields } from './tshark.ts';

export interface NormalisedDns {
  transport: string;
  id: number;
  response: boolean;
  qname: string;
  qtype: number;
  rcode: number;
  /** "TYPE:value" for each answer-section record (A/AAAA/CNAME/PTR/MX exchange/SRV target/TXT) */
  answers: string[];
}

const VALUE_FIELDS: Record<number, string> = { 1: 'dns.a', 28: 'dns.aaaa', 5: 'dns.cname', 12: 'dns.ptr.domain_name', 15: 'dns.mx.mail_exchange', 33: 'dns.srv.target', 16: 'dns.txt' };
const TYPE_LABEL: Record<number, string> = { 1: 'A', 28: 'AAAA', 5: 'CNAME', 12: 'PTR', 15: 'MX', 33: 'SRV', 16: 'TXT' };

export function tsharkDns(file: string): NormalisedDns[] {
  const valueFields = Object.values(VALUE_FIELDS);
  const rows = tsharkFields(file, ['udp.srcport', 'dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.qry.type', 'dns.flags.rcode', 'dns.count.answers', 'dns.resp.type', ...valueFields], 'dns && !icmp && !icmpv6'); // ICMP errors quote the packet they answer: not a DNS message
  return rows.map((row) => {
    const [udp, id, resp, qname, qtype, rcode, ancount, respTypes, ...values] = row;
    const lists = new Map<string, string[]>();
    valueFields.forEach((f, i) => lists.set(f, values[i] ? values[i]!.split(',') : []));
    const types = (respTypes ? respTypes.split(',') : []).slice(0, Number(ancount)).map(Number);
    const answers: string[] = [];
    for (const t of types) {
      const field = VALUE_FIELDS[t];
      if (!field) continue;
      if (t === 16) {
        // tshark splits one TXT record into its strings; provmon keeps the record: one entry per record
        answers.push(`TXT:${lists.get(field)!.splice(0).join('|')}`);
        continue;
      }
      answers.push(`${TYPE_LABEL[t]}:${lists.get(field)!.shift()!.toLowerCase()}`);
    }
    return { transport: udp ? 'udp' : 'tcp', id: Number(id), response: resp === '1' || resp === 'True', qname: qname!.toLowerCase(), qtype: Number(qtype), rcode: Number(rcode), answers };
  });
}

export function normaliseEvent(e: DnsEvent): NormalisedDns {
  const m = e.message;
  const answers: string[] = [];
  for (const r of m.answers) {
    const label = TYPE_LABEL[r.type];
    if (!label) continue;
    let v = r.data;
    if (r.type === 15) v = v.split(' ')[1]!;
    if (r.type === 33) v = v.split(' ')[3]!;
    if (r.type === 16) v = [...r.data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]).join('|');
    answers.push(`${label}:${v}`);
  }
  return { transport: e.transport, id: m.id, response: m.response, qname: m.questions[0]?.name ?? '', qtype: m.questions[0]?.type ?? 0, rcode: m.rcode, answers };
}

export function key(n: NormalisedDns): string {
  return JSON.stringify(n);
}
