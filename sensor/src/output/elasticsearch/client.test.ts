import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EsConfigSchema } from '../../config/schema.ts';
import { ProvmonError } from '../../errors.ts';
import { authKind, clientOptions, describeTarget, nodeUrls } from './client.ts';
import { removeTempDirs, tempDir } from './testdata/es-helpers.ts';

afterAll(removeTempDirs);

const es = (over: Record<string, unknown> = {}) => EsConfigSchema.parse(over);

describe('Elasticsearch client options from es_config', () => {
  test('seed keys build the node URL; hosts override them', () => {
    expect(nodeUrls(es())).toEqual(['http://localhost:9200']);
    expect(nodeUrls(es({ es_host: 'es.internal', es_port: 9243, secure: true }))).toEqual(['https://es.internal:9243']);
    expect(nodeUrls(es({ es_host: 'fd00::5' }))).toEqual(['http://[fd00::5]:9200']);
    expect(nodeUrls(es({ hosts: ['https://a:9200', 'https://b:9200'], es_host: 'ignored' }))).toEqual(['https://a:9200', 'https://b:9200']);
  });

  test('an API key wins over basic auth; no credentials means no auth header', () => {
    expect(authKind(es())).toBe('none');
    expect(authKind(es({ es_user: 'elastic', es_password: 'pw' }))).toBe('basic');
    expect(authKind(es({ es_user: 'elastic', es_password: 'pw', api_key: 'aWQ6a2V5' }))).toBe('api_key');
    expect(clientOptions(es({ es_user: 'elastic', es_password: 'pw', api_key: 'aWQ6a2V5' })).auth).toEqual({ apiKey: 'aWQ6a2V5' });
    expect(clientOptions(es({ es_user: 'elastic', es_password: 'pw' })).auth).toEqual({ username: 'elastic', password: 'pw' });
    expect(clientOptions(es()).auth).toBeUndefined();
    // the output owns retries: the transport must not retry underneath it
    expect(clientOptions(es()).maxRetries).toBe(0);
    expect(clientOptions(es({ request_timeout: 7 })).requestTimeout).toBe(7000);
  });

  test('TLS: the CA file is read, verification can be turned off, a missing CA file is a configuration error', () => {
    const dir = tempDir('client');
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(clientOptions(es({ ca_file: ca })).tls).toEqual({ ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', rejectUnauthorized: true });
    expect(clientOptions(es({ verify_tls: false })).tls).toEqual({ rejectUnauthorized: false });
    expect(clientOptions(es()).tls).toBeUndefined();
    expect(() => clientOptions(es({ ca_file: join(dir, 'missing.pem') }))).toThrow(ProvmonError);
  });

  test('what is logged names the nodes and the auth kind, never a secret', () => {
    const line = describeTarget(es({ hosts: ['https://user:url-secret@es.example:9200'], es_user: 'elastic', es_password: 'pw-secret', api_key: 'key-secret' }));
    expect(line).toBe('https://es.example:9200 (API key)');
    expect(describeTarget(es({ es_user: 'sensor', es_password: 'pw-secret' }))).toBe('http://localhost:9200 (basic auth as sensor)');
  });

  test('credentials written into a node URL count as basic auth and are said to be, never as "no auth"', () => {
    const withUrlCreds = es({ hosts: ['http://elastic:url-secret@127.0.0.1:9200'] });
    expect(authKind(withUrlCreds)).toBe('url');
    const line = describeTarget(withUrlCreds);
    expect(line).toBe('http://127.0.0.1:9200 (basic auth as elastic (credentials in the URL))');
    expect(line).not.toContain('url-secret');
  });
});
