/* SPDX-License-Identifier: GPL-2.0 */
/*
 * provmon: the records the kernel side writes into the BPF ring buffer, and the
 * keys/values of the maps user space configures.
 *
 * This header is the contract with sensor/src/ebpf/records.ts (decoder) and
 * sensor/src/ebpf/filters.ts (map encoders). Any change here must be mirrored
 * there; records.kernel.test.ts compares the offsets below with the BTF of the
 * compiled object so a drift fails a test instead of corrupting decoding.
 *
 * All integers are little-endian (x86-64 / arm64 hosts), naturally aligned.
 * Every record starts with struct pm_hdr; `size` is the number of meaningful
 * bytes (the ring buffer rounds records up to 8 bytes).
 */
#ifndef PROVMON_H
#define PROVMON_H

/* Bounds. Documented in docs/ebpf.md; user space reads them from the record sizes. */
#define PM_PATH_MAX 512      /* per path argument, including the NUL */
#define PM_EXE_MAX 512       /* resolved executable path (right-aligned, see pm_exec) */
#define PM_ARGS_MAX 4096     /* argv bytes, NUL-separated */
#define PM_ARG_MAX 256       /* one argv element, including the NUL */
#define PM_ARGC_MAX 32       /* argv elements read */
#define PM_UNIX_MAX 108      /* sun_path */
#define PM_NOISE_EXE 256     /* executable bytes in a noise key */
#define PM_PREFIX_MAX 256    /* bytes of a path compared against prefix rules */

/* Record kinds. Syscall kinds are named after the syscall. */
enum pm_kind {
	PMK_EXECVE = 1,
	PMK_EXECVEAT = 2,
	PMK_FORK = 3,        /* sched_process_fork (new process), or a failed clone/fork */
	PMK_EXIT = 4,        /* last thread of a process exited (sched_process_exit, group_dead) */

	PMK_OPEN = 10,
	PMK_OPENAT = 11,
	PMK_OPENAT2 = 12,
	PMK_CLOSE = 13,      /* carries the fd's read/write aggregate, if any */
	PMK_DUP = 14,        /* dup, dup2, dup3, fcntl(F_DUPFD*) */
	PMK_IO = 15,         /* read/write aggregate flushed without a close */
	PMK_FOLD = 16,       /* repeated identical read-only opens of one file by one process (struct pm_fold) */

	PMK_UNLINK = 20,
	PMK_UNLINKAT = 21,
	PMK_RENAME = 22,
	PMK_RENAMEAT = 23,
	PMK_RENAMEAT2 = 24,
	PMK_CHMOD = 25,
	PMK_FCHMODAT = 26,
	PMK_FCHMODAT2 = 27,

	PMK_SETUID = 30,
	PMK_SETGID = 31,
	PMK_SETREUID = 32,
	PMK_SETREGID = 33,
	PMK_SETRESUID = 34,
	PMK_SETRESGID = 35,

	PMK_SOCKET = 40,
	PMK_CONNECT = 41,
	PMK_BIND = 42,
	PMK_LISTEN = 43,
	PMK_ACCEPT = 44,
	PMK_ACCEPT4 = 45,
	PMK_SENDTO = 46,     /* only when the destination differs from the previous one on this fd */
	PMK_RECVFROM = 47,   /* only when the source differs from the previous one on this fd */

	PMK_CHANNEL = 48,    /* pipe/pipe2/socketpair, unix-socket connect/accept: the inode joining both ends */
};

/* pm_hdr.flags */
#define PMF_TRUNC_PATH (1 << 0)   /* a path did not fit PM_PATH_MAX */
#define PMF_TRUNC_ARGS (1 << 1)   /* argv had more than PM_ARGC_MAX elements or PM_ARGS_MAX bytes */
#define PMF_TRUNC_ARG (1 << 2)    /* at least one argv element was cut at PM_ARG_MAX */
#define PMF_NO_TASK (1 << 3)      /* emitted by the flush iterator: only tgid is meaningful */
#define PMF_NO_SYSCALL (1 << 4)   /* exec without execve (kernel exec) or whose execve entry was missed */
#define PMF_TRUNC_EXE (1 << 5)    /* resolved executable path did not fit / walk too deep */
#define PMF_READ_FAULT (1 << 6)   /* a user-memory read failed (page not present): payload partial */
#define PMF_CREATED (1 << 7)      /* open*: this open created the file (FMODE_CREATED) */

/* Common header: describes the task that made the syscall, at syscall exit. */
struct pm_hdr {
	__u16 kind;         /* enum pm_kind */
	__u16 flags;        /* PMF_* */
	__u32 size;         /* bytes of this record (header + payload) */
	__u64 ts_ns;        /* CLOCK_BOOTTIME ns (bpf_ktime_get_boot_ns) */
	__u32 pid;          /* thread id */
	__u32 tgid;         /* process id */
	__u32 ppid;         /* tgid of real_parent */
	__u32 uid;          /* real uid */
	__u32 gid;          /* real gid */
	__u32 euid;
	__u32 egid;
	__u32 _reserved;
	__u64 cgroup_id;    /* cgroup v2 id */
	__u64 start_ns;     /* process (group leader) start, CLOCK_BOOTTIME ns: task->start_boottime */
	__s64 ret;          /* syscall return value; -errno on failure; 0 for non-syscall records */
	char comm[16];
};

/* execve / execveat. The tail (args) is variable: size = offsetof(args) + args_len. */
struct pm_exec {
	struct pm_hdr h;
	__s32 dirfd;        /* execveat dirfd; AT_FDCWD (-100) for execve */
	__u32 at_flags;     /* execveat flags */
	__u16 argc;         /* elements in args */
	__u16 args_len;     /* bytes used in args */
	__u16 filename_len; /* bytes in filename, without NUL */
	__u16 exe_off;      /* exe path occupies exe[exe_off .. PM_EXE_MAX); exe_off == PM_EXE_MAX: unknown */
	char filename[PM_PATH_MAX]; /* as passed to execve (may be relative) */
	char exe[PM_EXE_MAX];       /* mm->exe_file resolved to an absolute path, right-aligned */
	char args[PM_ARGS_MAX];     /* argv elements, each NUL-terminated */
};

enum pm_fork_via {
	PM_VIA_KERNEL = 0,  /* no syscall seen (kernel thread, io worker) */
	PM_VIA_CLONE = 1,
	PM_VIA_CLONE3 = 2,
	PM_VIA_FORK = 3,
	PM_VIA_VFORK = 4,
};

/* New process (never a thread: CLONE_THREAD children are not reported). Header = parent. */
struct pm_fork {
	struct pm_hdr h;
	__u32 child_pid;
	__u32 child_tgid;
	__u64 clone_flags;
	__u64 child_start_ns; /* child's start_boottime; 0 if it could not be read */
	__u32 via;            /* enum pm_fork_via */
	__u32 _pad;
};

struct pm_exit {
	struct pm_hdr h;
	__s32 exit_code;    /* task->exit_code: wait(2) status (code << 8 | signal) */
	__u32 _pad;
};

/* open, openat, openat2, unlink, unlinkat, rename(at)(2), chmod, fchmodat(2). path2 only for renames. */
struct pm_file {
	struct pm_hdr h;
	__s32 dirfd;        /* AT_FDCWD (-100) when the syscall has none */
	__s32 dirfd2;       /* rename*: newdirfd */
	__u32 flags;        /* open flags / unlinkat flags / renameat2 flags / fchmodat flags */
	__u32 mode;         /* open/chmod mode */
	__u64 resolve;      /* openat2 how.resolve */
	__u16 path_len;     /* bytes, without NUL */
	__u16 path2_len;
	__u32 _pad;
	char path[PM_PATH_MAX];
	char path2[PM_PATH_MAX];
};

/* aggregate reasons (pm_io.reason) */
enum pm_io_reason {
	PM_IO_CLOSE = 1,    /* close(2) (kind PMK_CLOSE) */
	PM_IO_EXIT = 2,     /* process exited with the fd open */
	PM_IO_INTERVAL = 3, /* periodic flush (counters since the previous flush) */
	PM_IO_REUSE = 4,    /* the fd number was handed out again (dup2, exec close-on-exec, close_range ...) */
};

/*
 * read/write aggregate for one (tgid, fd).
 * rd: read, pread64, readv, preadv(2), recvfrom, recvmsg, and the source of copy_file_range/splice/sendfile
 * wr: write, pwrite64, writev, pwritev(2), sendto, sendmsg, and their destination
 */
struct pm_io_counts {
	__u64 rd_calls;
	__u64 rd_bytes;
	__u64 wr_calls;
	__u64 wr_bytes;
	__u64 rd_first_ns;
	__u64 rd_last_ns;
	__u64 wr_first_ns;
	__u64 wr_last_ns;
	__u32 errors;       /* calls that returned < 0 (EAGAIN included) */
	__u32 _pad;
};

/* PMK_CLOSE and PMK_IO */
struct pm_io {
	struct pm_hdr h;
	__s32 fd;
	__u32 reason;       /* enum pm_io_reason */
	struct pm_io_counts io;
};

enum pm_dup_via {
	PM_DUP_DUP = 1,
	PM_DUP_DUP2 = 2,
	PM_DUP_DUP3 = 3,
	PM_DUP_FCNTL = 4,
};

struct pm_dup {
	struct pm_hdr h;
	__s32 oldfd;
	__s32 newfd;        /* requested (dup2/dup3) or minimum (fcntl); the result is h.ret */
	__u32 flags;        /* dup3 flags; fcntl: F_DUPFD_CLOEXEC -> O_CLOEXEC */
	__u32 via;          /* enum pm_dup_via */
};

/* setuid family. ids as passed; (u32)-1 = unchanged */
struct pm_setid {
	struct pm_hdr h;
	__u32 id[3];        /* setuid: [uid]; setreuid: [ruid, euid]; setresuid: [ruid, euid, suid] */
	__u32 _pad;
};

/* socket/connect/bind/listen/accept/accept4/sendto/recvfrom */
struct pm_net {
	struct pm_hdr h;
	__s32 fd;           /* socket fd (listening fd for accept; h.ret is the new fd) */
	__u16 family;       /* AF_INET, AF_INET6, AF_UNIX, ... (socket: domain) */
	__u16 type;         /* SOCK_STREAM, ... (socket: type with flags masked) */
	__u16 protocol;     /* IPPROTO_* */
	__u16 lport;        /* local port, host order */
	__u16 rport;        /* remote port, host order */
	__u16 unix_len;     /* bytes in unix_path (abstract sockets start with NUL) */
	__u32 arg;          /* socket: raw type with flags; listen: backlog; accept4: flags */
	__u32 _pad;
	__u8 laddr[16];     /* IPv4 in the first 4 bytes */
	__u8 raddr[16];
	char unix_path[PM_UNIX_MAX];
	__u32 _pad2;
};

/* pm_chan.via */
enum pm_chan_via {
	PM_CHAN_PIPE = 1,         /* pipe, pipe2: fd[0] read end, fd[1] write end, ino[0] = ino[1] = the pipe's inode */
	PM_CHAN_SOCKETPAIR = 2,   /* socketpair: fd[0], fd[1] and their socket inodes */
	PM_CHAN_UNIX_CONNECT = 3, /* connect on a unix stream socket: fd[0], its inode, sk = [its sock, the peer sock] */
	PM_CHAN_UNIX_ACCEPT = 4,  /* accept on a unix socket: fd[0] = new fd, its inode, sk = [its sock, the connector's] */
};

/*
 * Identity of a pipe or a local socket connection, so the reads and writes on either end (aggregated per fd
 * like files, records PMK_CLOSE/PMK_IO) join at one node. Emitted on success only. A pipe is its inode. A unix
 * connection is the pair of its two struct sock addresses: both ends can name both (the connector may have closed,
 * and lost its inode, by the time the listener accepts). User space never writes these addresses into documents:
 * it hashes the pair with a per-run secret.
 */
struct pm_chan {
	struct pm_hdr h;
	__s32 fd[2];        /* -1 when the syscall has one fd */
	__u64 ino[2];       /* 0 when unknown */
	__u64 sk[2];        /* socket kinds: struct sock addresses (own, peer; socketpair: fd[0]'s, fd[1]'s) */
	__u32 via;          /* enum pm_chan_via */
	__u32 _pad;
};

/* ---- maps user space writes ---- */

/* proc_state map: tgid -> state */
#define PM_MUTE_SELF 1      /* the sensor or one of its descendants (sticky until exit) */
#define PM_MUTE_NOISE 2     /* exec matched a noise rule (re-evaluated at every exec) */
struct pm_proc_state {
	__u32 mute;         /* PM_MUTE_* bits */
	__u32 high_fds;     /* aggregate entries with fd >= PM_LOW_FDS (exit must sweep the map) */
	__u32 folds;        /* fold entries of this process (exit sweeps the fold map only when non-zero) */
};
#define PM_LOW_FDS 32

/* noise rule key: comm (NUL padded) + executable path right-aligned in PM_NOISE_EXE bytes */
struct pm_noise_key {
	char comm[16];
	char exe[PM_NOISE_EXE];
};

/* path prefix rule: LPM trie key over path bytes */
struct pm_prefix_key {
	__u32 prefixlen;    /* bits */
	__u8 data[PM_PREFIX_MAX];
};
#define PM_PREFIX_RAW 1     /* rule ended with '*': plain byte prefix, no component boundary */
struct pm_prefix_val {
	__u32 len;          /* bytes of the rule */
	__u32 flags;        /* PM_PREFIX_* */
	__u32 fs_magic;     /* when non-zero, an open is only filtered if the file is on this fs */
	__u32 _pad;
};

/* network allowlist key: exact (address, port) */
struct pm_net_key {
	__u16 family;       /* AF_INET / AF_INET6 (v4-mapped v6 addresses are stored as AF_INET) */
	__u16 port;         /* host order */
	__u8 addr[16];
};

/*
 * Repeated read-only opens of the same file (device + inode) by the same process, while the
 * file stays the same version (no write-open, same ctime, mtime and size), are folded: the
 * first open is reported at once as a normal record, the later ones only counted. The count
 * comes out as one PMK_FOLD record on the flush interval, when the file changes, and when the
 * process exits. The I/O of folded fds is summed in `io`. docs/ebpf.md states the rule.
 */
struct pm_fold {
	struct pm_hdr h;    /* h.flags has PMF_NO_TASK when emitted by a flush: only tgid is meaningful */
	__u32 dev;          /* inode's superblock s_dev (kernel encoding: major << 20 | minor) */
	__u32 open_flags;   /* flags of the first folded open */
	__u64 ino;
	__u64 count;        /* opens folded into this record */
	__u64 first_ns;     /* first and last folded open, CLOCK_BOOTTIME ns */
	__u64 last_ns;
	struct pm_io_counts io; /* read/write calls on the folded fds, summed */
	__u16 path_len;     /* bytes in path, without NUL */
	__u16 _pad[3];
	char path[PM_PATH_MAX]; /* path as passed to the first folded open */
};

/*
 * Record classes, so a flood of one kind cannot exhaust the path of the rarer, more valuable ones.
 * Class p may fill (8 - p)/8 of the ring: critical records all of it, network 7/8, file changes 6/8,
 * low-priority records 5/8; each class keeps an eighth that no lower class can take.
 *   critical: exec, fork, exit, setuid family
 *   net:      connect, accept, bind, listen
 *   high:     write-opens (write access, O_CREAT or O_TRUNC), unlink, rename, chmod, dup
 *   low:      read-only opens, close/io aggregates, fold records, socket(), sendto/recvfrom peer changes
 */
#define PM_PRIO_CRIT 0
#define PM_PRIO_NET 1
#define PM_PRIO_HIGH 2
#define PM_PRIO_LOW 3

/* cfg map (one entry): written by user space after load */
struct pm_cfg {
	__u32 flush_tgid;   /* process allowed to run the fallback flush (getpgid(PM_FLUSH_MAGIC)) */
	__u32 fold;         /* 1: fold repeated read-only opens (pm_fold); 0: report every open */
};
/* getpgid() argument that asks the fallback flush program to run; above any pid_max, so the call fails ESRCH */
#define PM_FLUSH_MAGIC 0x7072766d

/* per-CPU counters (stats map, one struct per CPU) */
struct pm_stats {
	__u64 rb_attempts;  /* records the kernel tried to write */
	__u64 rb_drops;     /* ... that were not written (ring full, or shed at their class's watermark) */
	__u64 stash_full;   /* syscall entries not stashed (in-flight map full): event lost */
	__u64 agg_full;     /* read/write calls not aggregated (aggregate map full) */
	__u64 proc_full;    /* process-state inserts that failed (filter state lost) */
	__u64 io_calls;     /* read/write calls aggregated (for the bench: events folded) */
	/* rb_drops per class, in PM_PRIO_* order: shed at the class's watermark, or the ring full (critical) */
	__u64 rb_drops_crit;
	__u64 rb_drops_net;
	__u64 rb_drops_high;
	__u64 rb_drops_low;
	__u64 opens_folded; /* opens counted in a fold entry instead of reported one by one */
	__u64 fold_full;    /* opens that could not start a fold entry (fold map full): reported normally, no loss */
};

#endif
