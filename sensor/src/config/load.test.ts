import { describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProvmonError } from '../errors.ts';
import { renderSchema, SCHEMA_PATH } from '../../../scripts/gen-config-schema.ts';
import { envNameFor, loadConfig, redactConfig } from './load.ts';

const SEED = resolve(import.meta.dir, '../../../test/fixtures/seed-config.json');
const none = { env: {}, defaultFiles: [] as string[] };

function tempConfig(content: unknown, mode = 0o600): string {
  const dir = mkdtempSync(join(tmpdir(), 'provmon-config-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  chmodSync(path, mode);
  return path;
}

function loadError(fn: () => unknown): ProvmonError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProvmonError);
    return error as ProvmonError;
  }
  throw new Error('expected a configuration error');
}

describe('configuration loading', () => {
  test('accepts the seed config.json as is and keeps its values', () => {
    const { config, warnings } = loadConfig({ ...none, file: SEED });
    expect(config.storage_type).toBe('elasticsearch');
    expect(config.es_config.es_user).toBe('elastic');
    expect(config.es_config.secure).toBe(true);
    expect(config.pcap_config.interface).toBe('eth0');
    expect(config.pcap_config.flow_timeout).toBe(300);
    expect(config.events_dir).toBe('/var/monitoring/events/');
    expect(warnings.some((w) => w.includes('es_config.ebpf_index'))).toBe(true);
    expect(warnings.some((w) => w.includes('changeme'))).toBe(true);
  });

  test('fills defaults when there is no file', () => {
    const { config, file } = loadConfig(none);
    expect(file).toBeUndefined();
    expect(config.storage_type).toBe('local');
    expect(config.pcap_config).toMatchObject({
      enabled: true,
      file_logging_enabled: true,
      interface: 'any',
      bpf_filter: 'tcp or udp',
      flow_timeout: 300,
      dns_cache_ttl: 300,
      flush_interval: 60,
    });
    expect(config.es_config.namespace).toBe('default');
  });

  test('flags win over environment, environment over the file, the file over defaults', () => {
    const file = tempConfig({ pcap_config: { flow_timeout: 10, flush_interval: 20, dns_cache_ttl: 30 } });
    const env = { PROVMON_PCAP_CONFIG__FLUSH_INTERVAL: '21', PROVMON_PCAP_CONFIG__DNS_CACHE_TTL: '31' };
    const { config, sources } = loadConfig({
      file,
      env,
      defaultFiles: [],
      flags: { 'pcap_config.dns_cache_ttl': { value: '32', flag: '--set pcap_config.dns_cache_ttl' } },
    });
    expect(config.pcap_config.flow_timeout).toBe(10);
    expect(config.pcap_config.flush_interval).toBe(21);
    expect(config.pcap_config.dns_cache_ttl).toBe(32);
    expect(config.pcap_config.bpf_filter).toBe('tcp or udp');
    expect(sources.get('pcap_config.flush_interval')).toEqual({ kind: 'env', name: 'PROVMON_PCAP_CONFIG__FLUSH_INTERVAL' });
  });

  test('PROVMON_CONFIG names the file when --config is absent', () => {
    const file = tempConfig({ hostname: 'from-env-file' });
    expect(loadConfig({ env: { PROVMON_CONFIG: file }, defaultFiles: [] }).config.hostname).toBe('from-env-file');
  });

  test('environment strings become booleans, numbers and lists', () => {
    const { config } = loadConfig({
      env: {
        PROVMON_EBPF_CONFIG__ENABLED: 'false',
        PROVMON_ES_CONFIG__ES_PORT: '9201',
        PROVMON_ES_CONFIG__HOSTS: 'http://127.0.0.1:9200, https://es2:9200',
      },
      defaultFiles: [],
    });
    expect(config.ebpf_config.enabled).toBe(false);
    expect(config.es_config.es_port).toBe(9201);
    expect(config.es_config.hosts).toEqual(['http://127.0.0.1:9200', 'https://es2:9200']);
    expect(envNameFor('es_config.es_password')).toBe('PROVMON_ES_CONFIG__ES_PASSWORD');
  });

  test('a wrong type names the key, the value, the file and what was expected', () => {
    const file = tempConfig({ pcap_config: { flow_timeout: 'soon' } });
    const error = loadError(() => loadConfig({ ...none, file }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('pcap_config.flow_timeout = "soon" (string)');
    expect(error.message).toContain(file);
    expect(error.message).toContain('expected a number of seconds');
  });

  test('a bad value from the environment names the variable', () => {
    const error = loadError(() => loadConfig({ env: { PROVMON_PCAP_CONFIG__FLOW_TIMEOUT: 'abc' }, defaultFiles: [] }));
    expect(error.message).toContain('pcap_config.flow_timeout');
    expect(error.message).toContain('PROVMON_PCAP_CONFIG__FLOW_TIMEOUT');
  });

  test('an unknown key is rejected with the keys that exist', () => {
    const file = tempConfig({ pcap_config: { flow_timout: 5 } });
    const error = loadError(() => loadConfig({ ...none, file }));
    expect(error.message).toContain('pcap_config.flow_timout: unknown key');
    expect(error.message).toContain('flow_timeout');
  });

  test('an out-of-range or unknown enum value is rejected', () => {
    expect(loadError(() => loadConfig({ ...none, file: tempConfig({ storage_type: 'mongo' }) })).message).toContain(
      'storage_type = "mongo" (string)',
    );
    expect(loadError(() => loadConfig({ ...none, file: tempConfig({ es_config: { es_port: 70000 } }) })).message).toContain('es_config.es_port = 70000');
    expect(loadError(() => loadConfig({ ...none, file: tempConfig({ pcap_config: { flush_interval: 0 } }) })).message).toContain(
      'pcap_config.flush_interval',
    );
  });

  test('a password in an invalid value is not echoed', () => {
    const error = loadError(() => loadConfig({ ...none, file: tempConfig({ es_config: { es_password: 12345678 } }) }));
    expect(error.message).toContain('es_config.es_password = (redacted)');
    expect(error.message).not.toContain('12345678');
  });

  test('a --set of a key that does not exist is refused', () => {
    const error = loadError(() => loadConfig({ ...none, flags: { 'pcap_config.nope': { value: '1', flag: '--set pcap_config.nope' } } }));
    expect(error.message).toContain('pcap_config.nope is not a configuration key');
  });

  test('unreadable, missing and malformed files get a clear error', () => {
    expect(loadError(() => loadConfig({ ...none, file: '/nonexistent/provmon.json' })).message).toContain('no such file');
    expect(loadError(() => loadConfig({ ...none, file: tempConfig('{"hostname": ') })).message).toContain('is not valid JSON');
    expect(loadError(() => loadConfig({ ...none, file: tempConfig('[1,2]') })).message).toContain('must hold a JSON object');
  });

  test('warns when a file holding credentials is readable by others, not when it is private', () => {
    const shared = tempConfig({ es_config: { es_password: 's3cret-value' } }, 0o644);
    const privateFile = tempConfig({ es_config: { es_password: 's3cret-value' } }, 0o600);
    const sharedWarnings = loadConfig({ ...none, file: shared }).warnings;
    expect(sharedWarnings.some((w) => w.includes('readable by every user') && w.includes(`chmod 600 ${shared}`))).toBe(true);
    expect(sharedWarnings.join(' ')).not.toContain('s3cret-value');
    expect(loadConfig({ ...none, file: privateFile }).warnings).toEqual([]);
  });

  test('under systemd ($INVOCATION_ID set) a credentials file others can read is refused with the chmod that fixes it', () => {
    const shared = tempConfig({ es_config: { es_password: 's3cret-value' } }, 0o640);
    const error = loadError(() => loadConfig({ ...none, file: shared, env: { INVOCATION_ID: '0123abcd' } }));
    expect(error.message).toContain('refusing to start as a systemd service');
    expect(error.message).toContain('readable by its group');
    expect(error.message).not.toContain('s3cret-value');
    expect(error.hint).toContain(`chmod 600 ${shared}`);
    expect(error.exitCode).toBe(2);
    // private file, or no secret in it: starts under systemd too
    expect(loadConfig({ ...none, file: tempConfig({ es_config: { es_password: 'x' } }, 0o600), env: { INVOCATION_ID: '1' } }).warnings).toEqual([]);
    expect(loadConfig({ ...none, file: tempConfig({ hostname: 'h' }, 0o644), env: { INVOCATION_ID: '1' } }).warnings).toEqual([]);
  });

  test('redaction hides the password and the API key', () => {
    const { config } = loadConfig({ ...none, file: tempConfig({ es_config: { es_password: 'pw-123', api_key: 'key-456' } }) });
    const shown = JSON.stringify(redactConfig(config));
    expect(shown).not.toContain('pw-123');
    expect(shown).not.toContain('key-456');
    expect(config.es_config.es_password).toBe('pw-123');
  });

  test('the published JSON Schema matches the schema the loader validates with', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(renderSchema());
  });
});
