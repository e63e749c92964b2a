/**
 * The official client, configured from es_config. Used by the bulk output and by `provmon setup`.
 *
 * - Nodes: es_config.hosts when set, else (secure ? https : http)://es_host:es_port.
 * - Auth: api_key (base64 "id:key", as the create-API-key response's `encoded`) wins over es_user/es_password.
 * - TLS: ca_file (PEM) and verify_tls.
 * - HttpConnection, not the default UndiciConnection: Bun 1.4.5 substitutes its own `undici`, whose Pool returns
 *   no response headers (see test/support/es.ts).
 * - maxRetries 0: the output does its own retries with backoff, jitter and the disk spool; transport-level
 *   retries would hide them and double the waits.
 * Secrets never leave this file: describeTarget() is what gets logged.
 */
import { Client, HttpConnection, type ClientOptions } from '@elastic/elasticsearch';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ProvmonError } from '../../errors.ts';
import { urlCredentialUser } from '../../secrets.ts';
import type { EsConfigSchema } from '../../config/schema.ts';

export type EsConfig = z.output<typeof EsConfigSchema>;

export function nodeUrls(es: Pick<EsConfig, 'hosts' | 'es_host' | 'es_port' | 'secure'>): string[] {
  if (es.hosts.length > 0) return [...es.hosts];
  const host = es.es_host.includes(':') && !es.es_host.startsWith('[') ? `[${es.es_host}]` : es.es_host;
  return [`${es.secure ? 'https' : 'http'}://${host}:${es.es_port}`];
}

export type AuthKind = 'api_key' | 'basic' | 'url' | 'none';

/** What the client authenticates with: an API key wins, then es_user, then credentials written into a node URL. */
export function authKind(es: Pick<EsConfig, 'api_key' | 'es_user'> & Partial<Pick<EsConfig, 'hosts'>>): AuthKind {
  if (es.api_key) return 'api_key';
  if (es.es_user) return 'basic';
  return (es.hosts ?? []).some((h) => urlCredentialUser(h) !== undefined) ? 'url' : 'none';
}

function describeAuth(es: EsConfig): string {
  switch (authKind(es)) {
    case 'api_key':
      return 'API key';
    case 'basic':
      return `basic auth as ${es.es_user}`;
    case 'url': {
      const users = [...new Set(es.hosts.map(urlCredentialUser).filter((u) => u !== undefined))];
      return `basic auth as ${users.join(', ')} (credentials in the URL)`;
    }
    default:
      return 'no auth';
  }
}

/** Node URLs with any user:password@ removed, plus the auth kind: safe to log. */
export function describeTarget(es: EsConfig): string {
  const urls = nodeUrls(es).map((u) => {
    try {
      const url = new URL(u);
      url.username = '';
      url.password = '';
      return url.toString().replace(/\/$/, '');
    } catch {
      return '(invalid URL)';
    }
  });
  return `${urls.join(', ')} (${describeAuth(es)})`;
}

export function clientOptions(es: EsConfig, extra: Partial<ClientOptions> = {}): ClientOptions {
  let ca: string | undefined;
  if (es.ca_file) {
    try {
      ca = readFileSync(es.ca_file, 'utf8');
    } catch (error) {
      throw new ProvmonError(`cannot read es_config.ca_file ${es.ca_file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        hint: 'point ca_file at the PEM file of the CA that signed the cluster certificate (e.g. config/certs/http_ca.crt)',
        exitCode: 2,
      });
    }
  }
  const auth = authKind(es);
  return {
    nodes: nodeUrls(es),
    Connection: HttpConnection,
    maxRetries: 0,
    requestTimeout: es.request_timeout * 1000,
    name: 'provmon',
    ...(auth === 'api_key' ? { auth: { apiKey: es.api_key } } : auth === 'basic' ? { auth: { username: es.es_user, password: es.es_password } } : {}),
    ...(ca !== undefined || !es.verify_tls ? { tls: { ...(ca !== undefined ? { ca } : {}), rejectUnauthorized: es.verify_tls } } : {}),
    ...extra,
  };
}

export function createClient(es: EsConfig, extra: Partial<ClientOptions> = {}): Client {
  return new Client(clientOptions(es, extra));
}
