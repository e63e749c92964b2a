/**
 * Points of interest: what a trace starts from. The string forms are the CLI's `--poi` values
 * (`process:<entity_id>`, `file:<path>`, `ip:<ip>[:<port>]`, `event:<id>`), also accepted by the Kibana routes.
 */
import type { EndpointSelector } from './source.ts';

export type Poi =
  | { kind: 'process'; entityId: string }
  | { kind: 'file'; path: string; host?: string }
  | { kind: 'endpoint'; ip: string; port?: number }
  | { kind: 'event'; eventId: string };

export function parsePoi(text: string): Poi {
  const i = text.indexOf(':');
  if (i <= 0) throw new Error(`point of interest must be process:<entity_id>, file:<path>, ip:<ip>[:<port>] or event:<id>, got ${JSON.stringify(text)}`);
  const kind = text.slice(0, i);
  const rest = text.slice(i + 1);
  if (!rest) throw new Error(`empty point of interest: ${JSON.stringify(text)}`);
  switch (kind) {
    case 'process':
      return { kind: 'process', entityId: rest };
    case 'file':
      if (!rest.startsWith('/')) throw new Error(`file point of interest needs an absolute path, got ${JSON.stringify(rest)}`);
      return { kind: 'file', path: rest };
    case 'ip':
    case 'endpoint':
      return { kind: 'endpoint', ...parseEndpoint(rest) };
    case 'event':
      return { kind: 'event', eventId: rest };
    default:
      throw new Error(`unknown point of interest kind ${JSON.stringify(kind)} (process, file, ip, event)`);
  }
}

/** `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1` (a bare IPv6 address has no port). */
export function parseEndpoint(text: string): EndpointSelector {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) return withPort(bracket[1]!, bracket[2]);
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [ip, port] = text.split(':');
    return withPort(ip!, port);
  }
  return { ip: text };
}

function withPort(ip: string, port: string | undefined): EndpointSelector {
  if (port === undefined || port === '') return { ip };
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`bad port ${JSON.stringify(port)}`);
  return { ip, port: n };
}

export function poiToString(p: Poi): string {
  switch (p.kind) {
    case 'process':
      return `process:${p.entityId}`;
    case 'file':
      return `file:${p.path}`;
    case 'endpoint': {
      const ip = p.ip.includes(':') && p.port !== undefined ? `[${p.ip}]` : p.ip;
      return `ip:${ip}${p.port === undefined ? '' : `:${p.port}`}`;
    }
    case 'event':
      return `event:${p.eventId}`;
  }
}
