/**
 * Receives an "Offline analysis" upload (multipart/form-data, parsed as it streams by busboy) into a private
 * temporary directory (mode 700, files 600): at most one capture (field `capture`) and a bounded number of audit
 * logs (field `audit`), plus the fields `tolerance` (seconds) and `host_name`. Limits are enforced while the bytes
 * arrive, each file's first bytes are sniffed before the rest is accepted, and on any failure the directory is
 * removed before the error (a RouteError naming the file and the limit or what the file looks like) is thrown.
 * Nothing is kept in memory beyond one chunk and a file's first 64 KiB.
 */
import busboy from 'busboy';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { sniffInput } from '../../../sensor/src/analyze/analyze.ts';
import { RouteError } from '../http.ts';
import { describeFirstBytes } from './first-bytes.ts';

export interface UploadLimits {
  /** bytes of any one file */
  maxFileBytes: number;
  /** bytes of all files of one upload */
  maxTotalBytes: number;
  maxAuditFiles: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 2 * 1024 ** 3, maxTotalBytes: 4 * 1024 ** 3, maxAuditFiles: 32 };

export interface UploadedFile {
  /** the name the browser sent (for messages and the summary only; never part of a path) */
  name: string;
  path: string;
  bytes: number;
  kind: 'pcap' | 'pcapng' | 'audit';
}

export interface Upload {
  dir: string;
  capture?: UploadedFile;
  audit: UploadedFile[];
  toleranceMs: number;
  hostName?: string;
  remove(): void;
}

const SNIFF_BYTES = 64 * 1024;
const DEFAULT_TOLERANCE_S = 2;

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3 && n % 1024 ** 3 === 0) return `${n / 1024 ** 3} GiB`;
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** A browser's file name, bounded and stripped of control characters and directories. */
function displayName(raw: string | undefined, fallback: string): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 200);
  return clean || fallback;
}

function readTolerance(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600) throw new RouteError(400, `tolerance: expected seconds from 0 to 3600, got ${JSON.stringify(value.slice(0, 40))}`);
  return Math.round(n * 1000);
}

function readHostName(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 253 || !/^[A-Za-z0-9._-]+$/.test(value)) throw new RouteError(400, `host_name: expected a host name (letters, digits, . _ -, at most 253 characters), got ${JSON.stringify(value.slice(0, 60))}`);
  return value;
}

/** What a file given in a field turned out to be, checked against what the field asks for. */
function checkKind(field: 'capture' | 'audit', name: string, head: Uint8Array): UploadedFile['kind'] {
  const kind = sniffInput(head);
  if (kind === 'unknown') throw new RouteError(415, `${name} is neither a pcap/pcapng capture nor a Linux audit log: it is ${describeFirstBytes(head)}`);
  if (field === 'capture' && kind === 'audit') throw new RouteError(400, `${name} is a Linux audit log, not a capture: add it as an audit log`);
  if (field === 'audit' && kind !== 'audit') throw new RouteError(400, `${name} is a ${kind} capture, not an audit log: add it as the capture`);
  return kind;
}

/**
 * Makes (or checks) the parent of the upload directories: a real directory of this user that nobody else can enter,
 * never a symlink or a directory someone else prepared (in a shared /tmp the name is predictable).
 */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const st = lstatSync(path);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(`${path} is not a private directory of this user (a directory with mode 700 owned by uid ${uid}): uploads are not spooled there`);
  }
}

export interface ReceiveOptions {
  headers: Record<string, string | string[] | undefined>;
  limits: UploadLimits;
  /** where the private directory is made (it must exist) */
  tmpRoot: string;
}

export function receiveUpload(body: Readable, o: ReceiveOptions): Promise<Upload> {
  const type = String(o.headers['content-type'] ?? '');
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    body.resume();
    return Promise.reject(new RouteError(415, `expected a multipart/form-data upload (fields capture, audit, tolerance, host_name), got content-type ${JSON.stringify(type.slice(0, 80)) || 'none'}`));
  }
  try {
    ensurePrivateDir(o.tmpRoot);
  } catch (error) {
    body.resume();
    return Promise.reject(new RouteError(500, (error as Error).message));
  }
  const dir = mkdtempSync(join(o.tmpRoot, 'upload-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const upload: Upload = { dir, audit: [], toleranceMs: DEFAULT_TOLERANCE_S * 1000, remove };
  const { limits } = o;
  let total = 0;
  let openFiles = 0;
  let parsed = false;
  let failed: unknown;
  const fds = new Set<number>();

  return new Promise<Upload>((resolve, reject) => {
    let parser: busboy.Busboy;
    const fail = (error: unknown) => {
      if (failed !== undefined) return;
      failed = error;
      for (const fd of fds) closeSync(fd);
      fds.clear();
      remove();
      body.unpipe(parser);
      body.destroy();
      reject(error);
    };
    const settle = () => {
      if (failed !== undefined || !parsed || openFiles > 0) return;
      if (!upload.capture && upload.audit.length === 0) return fail(new RouteError(400, 'nothing to analyze: the upload has no capture (field capture) and no audit log (field audit)'));
      resolve(upload);
    };
    try {
      // busboy's own limits stop a flood of parts or huge fields; file sizes are counted below, where the error can name the file
      parser = busboy({ headers: o.headers as Record<string, string>, limits: { files: limits.maxAuditFiles + 1, fields: 8, fieldSize: 1024, parts: limits.maxAuditFiles + 10, fileSize: limits.maxFileBytes + 1 } });
    } catch (error) {
      remove();
      body.resume();
      reject(new RouteError(400, `the upload is not valid multipart/form-data: ${(error as Error).message}`));
      return;
    }
    parser.on('field', (name, value, info) => {
      try {
        if (info.valueTruncated) throw new RouteError(400, `${name}: value too long`);
        if (name === 'tolerance') upload.toleranceMs = readTolerance(value);
        else if (name === 'host_name') {
          const host = readHostName(value);
          if (host) upload.hostName = host;
        } else throw new RouteError(400, `unknown form field ${JSON.stringify(name.slice(0, 40))} (expected capture, audit, tolerance, host_name)`);
      } catch (error) {
        fail(error);
      }
    });
    parser.on('file', (field, stream, info) => {
      if (failed !== undefined) return void stream.resume();
      if (field !== 'capture' && field !== 'audit') return fail(new RouteError(400, `unknown file field ${JSON.stringify(field.slice(0, 40))} (expected capture or audit)`));
      const name = displayName(info.filename, field);
      if (field === 'capture' && upload.capture) return fail(new RouteError(400, `two captures (${upload.capture.name} and ${name}): a case takes one capture; merge them first (mergecap)`));
      if (field === 'audit' && upload.audit.length >= limits.maxAuditFiles) return fail(new RouteError(413, `${name}: more than ${limits.maxAuditFiles} audit logs in one upload (the limit)`));
      const path = join(dir, field === 'capture' ? 'capture' : `audit-${upload.audit.length}`);
      const file: UploadedFile = { name, path, bytes: 0, kind: field === 'capture' ? 'pcap' : 'audit' };
      if (field === 'capture') upload.capture = file;
      else upload.audit.push(file);
      const fd = openSync(path, 'wx', 0o600);
      fds.add(fd);
      openFiles += 1;
      let head: Uint8Array | undefined = new Uint8Array(0);
      const sniff = () => {
        file.kind = checkKind(field, name, head!);
        writeSync(fd, head!);
        head = undefined;
      };
      stream.on('data', (chunk: Buffer) => {
        if (failed !== undefined) return;
        try {
          file.bytes += chunk.length;
          total += chunk.length;
          if (file.bytes > limits.maxFileBytes) throw new RouteError(413, `${name} is larger than the limit of ${formatBytes(limits.maxFileBytes)} per file`);
          if (total > limits.maxTotalBytes) throw new RouteError(413, `the upload is larger than the limit of ${formatBytes(limits.maxTotalBytes)} in all (reached while receiving ${name})`);
          if (head) {
            const joined = new Uint8Array(head.length + chunk.length);
            joined.set(head);
            joined.set(chunk, head.length);
            head = joined;
            if (head.length >= SNIFF_BYTES) sniff();
          } else writeSync(fd, chunk);
        } catch (error) {
          fail(error);
        }
      });
      stream.on('end', () => {
        if (failed !== undefined) return;
        try {
          if (head) {
            if (head.length === 0) throw new RouteError(400, `${name} is empty`);
            sniff();
          }
          fds.delete(fd);
          closeSync(fd);
          openFiles -= 1;
          settle();
        } catch (error) {
          fail(error);
        }
      });
    });
    parser.on('filesLimit', () => fail(new RouteError(413, `more files than one capture and ${limits.maxAuditFiles} audit logs`)));
    parser.on('partsLimit', () => fail(new RouteError(413, 'too many form parts')));
    parser.on('fieldsLimit', () => fail(new RouteError(400, 'too many form fields')));
    parser.on('error', (error: Error) => fail(new RouteError(400, `the upload is not valid multipart/form-data: ${error.message}`)));
    parser.on('close', () => {
      parsed = true;
      settle();
    });
    body.on('error', (error) => fail(new RouteError(400, `the upload was interrupted: ${error.message}`)));
    body.on('aborted', () => fail(new RouteError(400, 'the upload was interrupted (the client closed the connection)')));
    body.pipe(parser);
  });
}
