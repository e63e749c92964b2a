import { existsSync, readFileSync, statSync } from 'node:fs';
import type { z } from 'zod';
import { ProvmonError } from '../errors.ts';
import { maskUrlCredentials } from '../secrets.ts';
import { ConfigSchema, configJsonSchema, type Config } from './schema.ts';

/** Where a configuration value came from, for error messages ("from env PROVMON_…"). */
export type ValueSource = { kind: 'default' } | { kind: 'file'; path: string } | { kind: 'env'; name: string } | { kind: 'flag'; name: string };

export interface LoadedConfig {
  config: Config;
  /** The file that was read, if any. */
  file: string | undefined;
  /** Every leaf path that was set explicitly, and by whom; absent paths hold defaults. */
  sources: Map<string, ValueSource>;
  warnings: string[];
}

export interface LoadOptions {
  /** --config; else $PROVMON_CONFIG; else the first of DEFAULT_CONFIG_FILES that exists. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Values from command-line flags, by dotted path (e.g. "pcap_config.flow_timeout"). Strings are parsed like env values. */
  flags?: Record<string, { value: unknown; flag: string }>;
  /** Files looked for when no file is named (DEFAULT_CONFIG_FILES unless given). */
  defaultFiles?: string[];
}

/** Looked for, in order, when neither --config nor PROVMON_CONFIG names a file. The seed kept its file in /var/monitoring. */
export const DEFAULT_CONFIG_FILES = ['/etc/provmon/config.json', '/var/monitoring/config.json'];

export const ENV_PREFIX = 'PROVMON_';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Leaf {
  path: string;
  type: string;
}

/** Leaf keys of the schema with their JSON type, so env and flag strings can be converted before validation. */
function schemaLeaves(): Leaf[] {
  const leaves: Leaf[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    const props = node.properties as Record<string, Record<string, unknown>> | undefined;
    if (!props) return;
    for (const [key, child] of Object.entries(props)) {
      if (key === '$schema') continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (child.type === 'object' && child.properties) walk(child, path);
      else leaves.push({ path, type: typeof child.type === 'string' ? child.type : child.enum ? 'string' : 'string' });
    }
  };
  walk(configJsonSchema(), '');
  return leaves;
}

let cachedLeaves: Leaf[] | undefined;
export function configLeaves(): Leaf[] {
  cachedLeaves ??= schemaLeaves();
  return cachedLeaves;
}

/** PROVMON_PCAP_CONFIG__FLOW_TIMEOUT ⇔ pcap_config.flow_timeout */
export function envNameFor(path: string): string {
  return ENV_PREFIX + path.split('.').map((p) => p.toUpperCase()).join('__');
}

/**
 * Converts a string from the environment or the command line to the type the schema expects.
 * A value that does not convert is passed on unchanged so validation reports it with its source.
 */
export function coerceString(raw: string, type: string): Json {
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(raw.trim());
      return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      return raw;
    }
    case 'array': {
      const t = raw.trim();
      if (t.startsWith('[')) {
        try {
          return JSON.parse(t) as Json;
        } catch {
          return raw;
        }
      }
      return t === '' ? [] : t.split(',').map((s) => s.trim());
    }
    default:
      return raw;
  }
}

function setPath(target: JsonObject, path: string, value: Json): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as JsonObject;
  }
  node[parts[parts.length - 1]!] = value;
}

function recordSources(value: Json, prefix: string, source: ValueSource, sources: Map<string, ValueSource>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) recordSources(v, prefix ? `${prefix}.${k}` : k, source, sources);
  } else if (prefix) {
    sources.set(prefix, source);
  }
}

function pickConfigFile(options: LoadOptions, env: Record<string, string | undefined>): string | undefined {
  if (options.file) return options.file;
  if (env.PROVMON_CONFIG) return env.PROVMON_CONFIG;
  return (options.defaultFiles ?? DEFAULT_CONFIG_FILES).find((f) => existsSync(f));
}

function readConfigFile(path: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code ?? error);
    throw new ProvmonError(`cannot read config file ${path}: ${why}`, { hint: 'pass an existing JSON file with --config, or omit --config to use defaults', exitCode: 2 });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProvmonError(`config file ${path} is not valid JSON: ${(error as Error).message}`, { exitCode: 2 });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ProvmonError(`config file ${path} must hold a JSON object, not ${Array.isArray(parsed) ? 'an array' : typeof parsed}`, { exitCode: 2 });
  }
  return parsed as JsonObject;
}

/**
 * systemd sets $INVOCATION_ID for every process it starts as a unit (systemd.exec(5)); nothing else sets it. Used to
 * tell a service start from a person at a shell.
 */
export function startedBySystemd(env: Record<string, string | undefined>): boolean {
  return typeof env.INVOCATION_ID === 'string' && env.INVOCATION_ID.length > 0;
}

/** A readable credentials file is a leak waiting to happen: say so (and, under systemd, refuse: see loadConfig). */
function credentialWarnings(path: string, raw: JsonObject): string[] {
  const es = raw.es_config;
  if (es === null || typeof es !== 'object' || Array.isArray(es)) return [];
  const secrets = ['es_password', 'api_key'].filter((k) => typeof es[k] === 'string' && (es[k] as string).length > 0);
  if (secrets.length === 0) return [];
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return [];
  return [
    `config file ${path} holds credentials (${secrets.map((s) => `es_config.${s}`).join(', ')}) and is readable by ${mode & 0o007 ? 'every user' : 'its group'} (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`,
  ];
}

function describeSource(source: ValueSource | undefined): string {
  if (!source) return '';
  switch (source.kind) {
    case 'file':
      return ` (from ${source.path})`;
    case 'env':
      return ` (from environment ${source.name})`;
    case 'flag':
      return ` (from ${source.name})`;
    default:
      return '';
  }
}

function showValue(value: unknown): string {
  const shown = JSON.stringify(value);
  return shown === undefined ? String(value) : shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}

function isSecretPath(path: string): boolean {
  return /password|api_key|secret|token/i.test(path);
}

/** The source of a key, or of the nearest enclosing key that was set (a list element comes with its list). */
function sourceOf(path: string, sources: Map<string, ValueSource>): ValueSource | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const hit = sources.get(p);
    if (hit) return hit;
  }
  return undefined;
}

/** One line per problem: the key, the value, where it came from, and what was expected. */
export function formatIssues(issues: z.core.$ZodIssue[], sources: Map<string, ValueSource>): string {
  const lines = issues.map((issue) => {
    const path = issue.path.join('.');
    const input = (issue as { input?: unknown }).input;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => {
          const full = path ? `${path}.${key}` : key;
          return `${full}: unknown key${describeSource(sources.get(full) ?? [...sources.entries()].find(([p]) => p.startsWith(`${full}.`))?.[1])}; expected one of: ${knownKeys(path).join(', ')}`;
        })
        .join('\n');
    }
    const shown = isSecretPath(path) ? '(redacted)' : maskUrlCredentials(showValue(input));
    const got = input === undefined ? 'missing' : `${shown}${typeof input === 'object' || isSecretPath(path) ? '' : ` (${typeof input})`}`;
    return `${path || '(top level)'} = ${got}${describeSource(sourceOf(path, sources))}: expected ${issue.message}`;
  });
  return lines.join('\n');
}

function knownKeys(objectPath: string): string[] {
  const depth = objectPath === '' ? 0 : objectPath.split('.').length;
  const keys = new Set<string>();
  for (const leaf of configLeaves()) {
    if (objectPath === '' || leaf.path.startsWith(`${objectPath}.`)) {
      const key = leaf.path.split('.')[depth];
      if (key) keys.add(key);
    }
  }
  return [...keys];
}

/** defaults < file < environment < flags, validated as one object. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const sources = new Map<string, ValueSource>();
  const warnings: string[] = [];
  const merged: JsonObject = {};

  const file = pickConfigFile(options, env);
  if (file) {
    const raw = readConfigFile(file);
    const exposed = credentialWarnings(file, raw);
    if (exposed.length > 0 && startedBySystemd(env)) {
      // A service starts unattended, so a warning would only reach the journal: refuse instead (exit 2, which the
      // unit does not restart), and say how to fix it. Run by hand, the person reading the warning is the fix.
      throw new ProvmonError(`${exposed[0]}; refusing to start as a systemd service with credentials other users can read`, {
        hint: `chmod 600 ${file} (and chown it to the service user, e.g. chown provmon:provmon ${file})`,
        exitCode: 2,
      });
    }
    warnings.push(...exposed);
    const es = raw.es_config;
    if (es && typeof es === 'object' && !Array.isArray(es)) {
      for (const key of ['ebpf_index', 'pcap_index', 'es_index']) {
        if (key in es) warnings.push(`es_config.${key} is accepted for compatibility and ignored: provmon writes data streams logs-provmon.<dataset>-<namespace>`);
      }
    }
    recordSources(raw, '', { kind: 'file', path: file }, sources);
    deepAssign(merged, raw);
  }

  for (const leaf of configLeaves()) {
    const name = envNameFor(leaf.path);
    const value = env[name];
    if (value === undefined) continue;
    setPath(merged, leaf.path, coerceString(value, leaf.type));
    sources.set(leaf.path, { kind: 'env', name });
  }

  const leafTypes = new Map(configLeaves().map((l) => [l.path, l.type]));
  for (const [path, { value, flag }] of Object.entries(options.flags ?? {})) {
    if (value === undefined) continue;
    const type = leafTypes.get(path);
    if (type === undefined) {
      throw new ProvmonError(`${flag}: ${path} is not a configuration key`, { hint: `known keys: ${[...leafTypes.keys()].join(', ')}`, exitCode: 2 });
    }
    setPath(merged, path, typeof value === 'string' ? coerceString(value, type) : (value as Json));
    sources.set(path, { kind: 'flag', name: flag });
  }

  const result = ConfigSchema.safeParse(merged, { reportInput: true });
  if (!result.success) {
    throw new ProvmonError(`invalid configuration:\n${formatIssues(result.error.issues, sources)}`, {
      hint: 'the schema is schema/config.schema.json; `provmon run --help` lists the flags',
      exitCode: 2,
    });
  }
  if (result.data.es_config.es_password === 'changeme') {
    warnings.push('es_config.es_password is the seed example "changeme": set a real password');
  }
  return { config: result.data, file, sources, warnings };
}

function deepAssign(target: JsonObject, source: JsonObject): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)) {
      deepAssign(current, value);
    } else {
      target[key] = value;
    }
  }
}

/** The configuration with every secret replaced, safe to print or log. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.es_config.es_password) copy.es_config.es_password = '(redacted)';
  if (copy.es_config.api_key) copy.es_config.api_key = '(redacted)';
  copy.es_config.hosts = copy.es_config.hosts.map(maskUrlCredentials);
  if (copy.narrative.api_key) copy.narrative.api_key = '(redacted)';
  return copy;
}
