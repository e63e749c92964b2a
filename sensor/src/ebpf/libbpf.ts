/**
 * bun:ffi bindings to libbpf.so.1 (Debian libbpf1 >= 1.1) and the few libc calls the
 * loader and the mmap ring consumer need. Thin on purpose: every function is the C
 * function, pointers are numbers, errors are negative errno (libbpf 1.x convention;
 * pointer-returning calls return null and leave errno set — see `lastErrno`).
 */
import { dlopen, FFIType, JSCallback, CString, ptr, toArrayBuffer, type Pointer } from 'bun:ffi';

const { i32, u32, u64, i64, ptr: P, cstring, void: V, bool } = FFIType;

function openLib<T extends Record<string, { args: readonly FFIType[]; returns: FFIType }>>(names: string[], symbols: T) {
  let last: unknown;
  for (const name of names) {
    try {
      return dlopen(name, symbols);
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

const libbpfSymbols = {
  libbpf_set_print: { args: [P], returns: P },
  libbpf_num_possible_cpus: { args: [], returns: i32 },
  libbpf_version_string: { args: [], returns: cstring },
  libbpf_strerror: { args: [i32, P, u64], returns: i32 },
  bpf_object__open_file: { args: [cstring, P], returns: P },
  bpf_object__load: { args: [P], returns: i32 },
  bpf_object__close: { args: [P], returns: V },
  bpf_object__next_program: { args: [P, P], returns: P },
  bpf_object__find_program_by_name: { args: [P, cstring], returns: P },
  bpf_object__find_map_by_name: { args: [P, cstring], returns: P },
  bpf_program__name: { args: [P], returns: cstring },
  bpf_program__section_name: { args: [P], returns: cstring },
  bpf_program__set_autoload: { args: [P, bool], returns: i32 },
  bpf_program__autoload: { args: [P], returns: bool },
  bpf_program__attach: { args: [P], returns: P },
  bpf_program__attach_iter: { args: [P, P], returns: P },
  bpf_link__fd: { args: [P], returns: i32 },
  bpf_link__destroy: { args: [P], returns: i32 },
  bpf_link__disconnect: { args: [P], returns: V },
  bpf_map__fd: { args: [P], returns: i32 },
  bpf_map__set_max_entries: { args: [P, u32], returns: i32 },
  bpf_map__max_entries: { args: [P], returns: u32 },
  bpf_map__value_size: { args: [P], returns: u32 },
  bpf_map__key_size: { args: [P], returns: u32 },
  bpf_map_update_elem: { args: [i32, P, P, u64], returns: i32 },
  bpf_map_lookup_elem: { args: [i32, P, P], returns: i32 },
  bpf_map_delete_elem: { args: [i32, P], returns: i32 },
  bpf_map_get_next_key: { args: [i32, P, P], returns: i32 },
  bpf_iter_create: { args: [i32], returns: i32 },
  ring_buffer__new: { args: [i32, P, P, P], returns: P },
  ring_buffer__poll: { args: [P, i32], returns: i32 },
  ring_buffer__consume: { args: [P], returns: i32 },
  ring_buffer__free: { args: [P], returns: V },
} as const;

const libcSymbols = {
  __errno_location: { args: [], returns: P },
  vsnprintf: { args: [P, u64, P, P], returns: i32 },
  mmap: { args: [P, u64, i32, i32, i32, i64], returns: P },
  munmap: { args: [P, u64], returns: i32 },
  read: { args: [i32, P, u64], returns: i64 },
  close: { args: [i32], returns: i32 },
  getpgid: { args: [i32], returns: i32 },
  clock_gettime: { args: [i32, P], returns: i32 },
  sysconf: { args: [i32], returns: i64 },
  mount: { args: [cstring, cstring, cstring, u64, P], returns: i32 },
  dlsym: { args: [P, cstring], returns: P },
  pthread_create: { args: [P, P, P, P], returns: i32 },
  pthread_join: { args: [u64, P], returns: i32 },
} as const;

let libbpfHandle: ReturnType<typeof dlopen<typeof libbpfSymbols>> | undefined;
let libcHandle: ReturnType<typeof dlopen<typeof libcSymbols>> | undefined;

/** libbpf symbols; throws the dlopen error when libbpf.so.1 is not installed. */
export function libbpf() {
  libbpfHandle ??= openLib(['libbpf.so.1', 'libbpf.so'], libbpfSymbols);
  return libbpfHandle.symbols;
}

export function libc() {
  libcHandle ??= openLib(['libc.so.6'], libcSymbols);
  return libcHandle.symbols;
}

/** errno of the last failed libc/libbpf call on this thread. Read it right after the call. */
export function lastErrno(): number {
  const loc = libc().__errno_location();
  if (!loc) return 0;
  return new Int32Array(toAb(loc, 4))[0] ?? 0;
}

function toAb(p: Pointer | number | bigint, len: number): ArrayBuffer {
  return toArrayBuffer(p as Pointer, 0, len);
}

export function strerror(err: number): string {
  const buf = new Uint8Array(256);
  libbpf().libbpf_strerror(err, buf, BigInt(buf.length));
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

/** FFI pointer results come back as number | bigint | null; normalise to Pointer | null */
export function asPtr(p: Pointer | bigint | number | null | undefined): Pointer | null {
  if (p === null || p === undefined) return null;
  const n = typeof p === 'bigint' ? Number(p) : (p as number);
  return n === 0 ? null : (n as Pointer);
}

export function cstr(s: string): Buffer {
  return Buffer.from(s + '\0', 'utf8');
}

/* ------------------------------------------------------------------ print */

export type LibbpfLogLevel = 'warn' | 'info' | 'debug';
const LEVELS: LibbpfLogLevel[] = ['warn', 'info', 'debug'];

type LogSink = (level: LibbpfLogLevel, line: string) => void;
let printCallback: JSCallback | undefined;
let sink: LogSink | undefined;
const printBuf = new Uint8Array(64 * 1024);

/**
 * Route libbpf's log lines (including verifier logs, printed at warn level when a load
 * fails) to `fn`. The callback formats the va_list with libc vsnprintf; libbpf calls it
 * synchronously on the thread that called into libbpf.
 */
export function setLibbpfPrint(fn: LogSink | undefined): void {
  sink = fn;
  if (printCallback) return;
  printCallback = new JSCallback(
    (level: number, fmt: Pointer, ap: Pointer) => {
      if (!sink) return 0;
      const n = libc().vsnprintf(printBuf, BigInt(printBuf.length), fmt, ap);
      if (n <= 0) return 0;
      const text = new TextDecoder().decode(printBuf.subarray(0, Math.min(n, printBuf.length - 1)));
      for (const line of text.split('\n')) if (line.length) sink(LEVELS[level] ?? 'debug', line);
      return 0;
    },
    { args: [i32, P, P], returns: i32 },
  );
  libbpf().libbpf_set_print(printCallback.ptr);
}

/* ------------------------------------------------------- parallel close */

/**
 * Close fds on native threads, all at once. Closing a tracepoint link's perf event waits
 * for an RCU-tasks grace period (tens of ms on 6.x kernels, where syscall tracepoints are
 * faultable); ~100 links closed one by one take seconds, in parallel a fraction of one.
 * Each thread runs libc close() directly as its start routine: the fd travels in the
 * pointer-sized argument register, which is where close() reads its int argument on
 * x86-64 and arm64.
 */
export function closeFdsParallel(fds: number[], width = 32): void {
  const c = libc();
  const closeFn = asPtr(c.dlsym(null, Buffer.from('close\0')));
  for (let i = 0; i < fds.length; i += width) {
    const batch = fds.slice(i, i + width);
    const tids = new BigUint64Array(batch.length);
    const started: boolean[] = [];
    batch.forEach((fd, j) => {
      const ok = closeFn !== null && c.pthread_create(ptr(tids, j * 8), null, closeFn, fd as unknown as Pointer) === 0;
      if (!ok) c.close(fd);
      started.push(ok);
    });
    batch.forEach((_, j) => {
      if (started[j]) c.pthread_join(tids[j]!, null);
    });
  }
}

/* ------------------------------------------------------------------ clock */

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_BOOTTIME = 7;
const tsBuf = new BigInt64Array(2);

/** clock_gettime as nanoseconds (a JS number: exact for ~104 days of uptime, then ±few ns) */
export function clockNs(clock: number): number {
  libc().clock_gettime(clock, tsBuf);
  return Number(tsBuf[0]) * 1e9 + Number(tsBuf[1]);
}

/** the kernel's page size (the ring buffer's mmap unit) */
export function pageSize(): number {
  return Number(libc().sysconf(30 /* _SC_PAGESIZE */));
}

export { ptr, CString };
export type { Pointer };
