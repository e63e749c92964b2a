import pino, { type DestinationStream, type Logger } from 'pino';
import { maskUrlCredentials } from '../secrets.ts';

export type { Logger } from 'pino';
export type LogFormat = 'json' | 'pretty';

const SECRET_KEY = /pass(word)?|api_?key|secret|token|authorization|credential/i;

/**
 * Secrets never reach a log line: values under secret-looking keys are replaced, and user:password@ in URLs is
 * masked wherever it appears (error messages from HTTP clients quote URLs).
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: redact(value.message, depth + 1), ...(value.stack ? { stack: redact(value.stack, depth + 1) } : {}) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && v !== '' && v !== undefined && v !== null ? '(redacted)' : redact(v, depth + 1);
  }
  return out;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Human-readable lines for a terminal: "12:00:01 INFO  message key=value". JSON stays the default off a TTY. */
function prettyDestination(fd: number): DestinationStream {
  const sink = pino.destination({ fd, sync: true });
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        sink.write(line);
        return;
      }
      const { level, time, msg, pid: _pid, hostname: _host, ...rest } = record;
      const clock = new Date(Number(time)).toISOString().slice(11, 19);
      const name = (LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5);
      const extras = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      sink.write(`${clock} ${name} ${String(msg ?? '')}${extras ? `  ${extras}` : ''}\n`);
    },
  };
}

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** 2 (stderr) by default, so stdout stays for command output such as JSON graphs. */
  fd?: number;
}

export function defaultLogFormat(fd = 2): LogFormat {
  const env = process.env.PROVMON_LOG_FORMAT;
  if (env === 'json' || env === 'pretty') return env;
  return process.stderr.isTTY && fd === 2 ? 'pretty' : 'json';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.fd ?? 2;
  const format = options.format ?? defaultLogFormat(fd);
  const destination = format === 'pretty' ? prettyDestination(fd) : pino.destination({ fd, sync: true });
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      formatters: { log: (object) => redact(object) as Record<string, unknown> },
      hooks: {
        // The message string is not passed through formatters.log, so mask URL credentials there too.
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? (redact(a) as string) : a));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
