/**
 * Syscall numbers → names for the architectures audit logs usually come from. Only the syscalls that become
 * documents are listed; the ENRICHED log format names the syscall itself, so any architecture works there.
 */
const X86_64: Record<number, string> = {
  2: 'open', 41: 'socket', 42: 'connect', 43: 'accept', 44: 'sendto', 46: 'sendmsg', 49: 'bind', 50: 'listen',
  56: 'clone', 57: 'fork', 58: 'vfork', 59: 'execve', 60: 'exit', 82: 'rename', 84: 'rmdir', 85: 'creat', 87: 'unlink',
  90: 'chmod', 91: 'fchmod', 105: 'setuid', 106: 'setgid', 113: 'setreuid', 114: 'setregid', 117: 'setresuid',
  119: 'setresgid', 231: 'exit_group', 257: 'openat', 263: 'unlinkat', 264: 'renameat', 268: 'fchmodat',
  288: 'accept4', 316: 'renameat2', 322: 'execveat', 435: 'clone3', 437: 'openat2',
};

/** The generic table (arm64, riscv64). */
const GENERIC: Record<number, string> = {
  35: 'unlinkat', 38: 'renameat', 52: 'fchmod', 53: 'fchmodat', 56: 'openat', 93: 'exit', 94: 'exit_group',
  143: 'setregid', 144: 'setgid', 145: 'setreuid', 146: 'setuid', 147: 'setresuid', 149: 'setresgid', 198: 'socket',
  200: 'bind', 201: 'listen', 202: 'accept', 203: 'connect', 206: 'sendto', 211: 'sendmsg', 220: 'clone',
  221: 'execve', 242: 'accept4', 276: 'renameat2', 281: 'execveat', 435: 'clone3', 437: 'openat2',
};

const I386: Record<number, string> = {
  1: 'exit', 2: 'fork', 5: 'open', 8: 'creat', 10: 'unlink', 11: 'execve', 15: 'chmod', 23: 'setuid', 38: 'rename',
  40: 'rmdir', 46: 'setgid', 94: 'fchmod', 120: 'clone', 190: 'vfork', 203: 'setreuid', 204: 'setregid',
  208: 'setresuid', 210: 'setresgid', 213: 'setuid', 214: 'setgid', 252: 'exit_group', 295: 'openat', 301: 'unlinkat',
  302: 'renameat', 306: 'fchmodat', 353: 'renameat2', 358: 'execveat', 359: 'socket', 361: 'bind', 362: 'connect',
  363: 'listen', 364: 'accept4', 369: 'sendto', 370: 'sendmsg', 435: 'clone3', 437: 'openat2',
};

/** audit's arch field (AUDIT_ARCH_*) → table and name */
const ARCHES: Record<string, { name: string; table: Record<number, string> }> = {
  c000003e: { name: 'x86_64', table: X86_64 },
  c00000b7: { name: 'aarch64', table: GENERIC },
  c00000f3: { name: 'riscv64', table: GENERIC },
  '40000003': { name: 'i386', table: I386 },
};

/** The syscall's name, or undefined for an arch/number this table does not know (counted by the caller). */
export function syscallName(arch: string | undefined, syscall: string | undefined, enrichedName?: string): string | undefined {
  if (enrichedName) return enrichedName;
  if (syscall === undefined) return undefined;
  if (/^[a-z_][a-z0-9_]*$/.test(syscall)) return syscall; // already interpreted (ausearch -i style)
  const entry = arch === undefined ? undefined : ARCHES[arch.toLowerCase()];
  return entry?.table[Number(syscall)];
}

export function archName(arch: string | undefined): string | undefined {
  return arch === undefined ? undefined : (ARCHES[arch.toLowerCase()]?.name ?? arch);
}
