import { describe, expect, test } from 'bun:test';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, redact } from './logger.ts';

function capture(format: 'json' | 'pretty', write: (log: ReturnType<typeof createLogger>) => void): string {
  const path = join(mkdtempSync(join(tmpdir(), 'provmon-log-')), 'log');
  const fd = openSync(path, 'w');
  write(createLogger({ fd, format, level: 'debug' }));
  closeSync(fd);
  return readFileSync(path, 'utf8');
}

describe('structured logging', () => {
  test('writes one JSON object per line with level and message', () => {
    const out = capture('json', (log) => log.info({ events_dir: '/x' }, 'started'));
    const record = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(record.level).toBe(30);
    expect(record.msg).toBe('started');
    expect(record.events_dir).toBe('/x');
  });

  test('never writes secrets: keys, nested keys, URL credentials and error messages', () => {
    const out = capture('json', (log) => {
      log.info({ es_config: { es_password: 'hunter2', api_key: 'c2VjcmV0' }, headers: { authorization: 'Basic abc' } }, 'connecting');
      log.warn('retrying http://elastic:hunter2@127.0.0.1:9200/_bulk');
      log.error({ err: new Error('connect to https://u:hunter2@es:9200 failed') }, 'bulk failed');
    });
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('c2VjcmV0');
    expect(out).not.toContain('Basic abc');
    expect(out).toContain('http://elastic:(redacted)@127.0.0.1:9200/_bulk');
    expect(out.split('\n').filter(Boolean)).toHaveLength(3);
  });

  test('levels below the configured one are dropped', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'provmon-log-')), 'log');
    const fd = openSync(path, 'w');
    const log = createLogger({ fd, format: 'json', level: 'warn' });
    log.info('quiet');
    log.warn('loud');
    closeSync(fd);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('loud');
  });

  test('pretty format is readable and still redacted', () => {
    const out = capture('pretty', (log) => log.info({ es_password: 'hunter2', n: 3 }, 'hello'));
    expect(out).toMatch(/^\d\d:\d\d:\d\d INFO  hello {2}es_password=\(redacted\) n=3\n$/);
  });

  test('redact leaves empty secrets and ordinary values alone', () => {
    expect(redact({ es_password: '', port: 9200, name: 'x' })).toEqual({ es_password: '', port: 9200, name: 'x' });
  });
});
