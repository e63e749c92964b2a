import { describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvmonError } from '../errors.ts';
import { loadConfig } from './load.ts';
import { resolvePaths } from './paths.ts';

const defaults = () => loadConfig({ env: {}, defaultFiles: [] }).config;

describe('default local paths', () => {
  test('fall back to ./data when /var/monitoring is absent', () => {
    const base = mkdtempSync(join(tmpdir(), 'provmon-paths-'));
    const paths = resolvePaths(defaults(), { systemBase: join(base, 'var-monitoring'), localBase: join(base, 'data') });
    expect(paths.eventsDir).toBe(join(base, 'data', 'events'));
    expect(paths.outputDir).toBe(join(base, 'data', 'outputs'));
    expect(paths.reason.eventsDir).toContain('absent or not writable');
  });

  test('use /var/monitoring when it exists and is writable', () => {
    const base = mkdtempSync(join(tmpdir(), 'provmon-paths-'));
    mkdirSync(join(base, 'var-monitoring'));
    const paths = resolvePaths(defaults(), { systemBase: join(base, 'var-monitoring'), localBase: join(base, 'data') });
    expect(paths.eventsDir).toBe(join(base, 'var-monitoring', 'events'));
  });

  test('an explicit directory is used as given', () => {
    const base = mkdtempSync(join(tmpdir(), 'provmon-paths-'));
    const config = { ...defaults(), events_dir: join(base, 'mine', 'events') };
    expect(resolvePaths(config, { systemBase: join(base, 'absent') }).eventsDir).toBe(join(base, 'mine', 'events'));
  });

  test('an explicit directory that cannot be created is a clear error', () => {
    const config = { ...defaults(), events_dir: '/etc/hostname/events' };
    expect(() => resolvePaths(config)).toThrow(ProvmonError);
    expect(() => resolvePaths(config)).toThrow('events_dir /etc/hostname/events is not writable');
  });
});
