// SPDX-License-Identifier: GPL-2.0
/*
 * provmon kernel side: CO-RE tracepoint programs that turn process, file and
 * network syscalls into records in one BPF ring buffer.
 *
 * Shape of every syscall handler: sys_enter_* copies the arguments (paths and
 * sockaddrs are read from user memory here, before the kernel uses them) into
 * a per-thread in-flight map; sys_exit_* takes them back, adds the return
 * value and writes the record. read/write-like calls never produce a record
 * per call: they are folded into a (tgid, fd) aggregate that is emitted on
 * close, on process exit, when the fd number is reused, and when user space
 * runs the flush iterator (flush_io).
 *
 * Filters (all in maps user space fills at start, see provmon.h):
 *   proc_state  tgid -> mute bits: the sensor's own tree (inherited on fork)
 *               and noise processes (decided at exec from comm AND the
 *               resolved executable path, so renaming comm later changes nothing)
 *   prefixes    LPM trie of path prefixes, for file events only, never exec
 *   netallow    exact (address, port) pairs whose connect/accept/sendto are dropped
 *
 * Loss accounting: every attempt to write a record bumps stats.rb_attempts,
 * every failure stats.rb_drops (per CPU, atomically), so
 * attempts - drops = records user space must receive.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "provmon.h"

char LICENSE[] SEC("license") = "GPL";

#define AT_FDCWD -100
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define EBADF 9
#define CLONE_VM 0x100
#define CLONE_VFORK 0x4000
#define CLONE_PARENT 0x8000
#define CLONE_THREAD 0x10000
#define SIGCHLD 17
#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030
#define O_CLOEXEC 02000000
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define SOCK_TYPE_MASK 0xf
#define O_CREAT 0100
#define FMODE_CREATED (1 << 20)

/* ---------------------------------------------------------------- maps */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* user space overrides with bpf_map__set_max_entries */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pm_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct pm_proc_state);
} proc_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct pm_noise_key);
	__type(value, __u8);
} noise SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct pm_prefix_key);
	__type(value, struct pm_prefix_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pm_net_key);
	__type(value, __u8);
} netallow SEC(".maps");

struct agg_key {
	__u32 tgid;
	__s32 fd;
};

struct agg_val {
	struct pm_io_counts io;
	__u32 muted;      /* fd belongs to a filtered path or allowlisted peer: count nothing */
	__u32 fold_dev;   /* non-zero fold_ino: the fd was opened by a folded open; its I/O goes to that fold entry */
	__u64 peer;       /* hash of the last sendto/recvfrom address reported on this fd */
	__u64 fold_ino;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct agg_key);
	__type(value, struct agg_val);
} agg SEC(".maps");

/* fold entries: (tgid, file version) -> pending count; see struct pm_fold in provmon.h */
struct fold_key {
	__u32 tgid;
	__u32 dev;
	__u64 ino;
};

struct fold_val {
	__u64 gen;        /* ino_gen of the file when the entry started */
	__s64 ctime_sec;  /* the file's version when the entry started */
	__s64 mtime_sec;
	__u32 ctime_nsec;
	__u32 mtime_nsec;
	__s64 size;
	__u64 count;      /* folded opens not yet reported */
	__u64 first_ns;
	__u64 last_ns;
	struct pm_io_counts io;
	__u32 open_flags;
	__u16 path_len;
	__u16 _pad;
	char path[PM_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct fold_key);
	__type(value, struct fold_val);
} fold SEC(".maps");

/*
 * Write-opens bump the file's generation, so a file opened for writing is a new version even
 * before its first write changes mtime (timestamps are coarse). LRU: an evicted generation
 * restarts at 0, which can only make a fold entry look stale (reported early), never current.
 */
struct ino_key {
	__u32 dev;
	__u32 _pad;
	__u64 ino;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ino_key);
	__type(value, __u64);
} ino_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pm_cfg);
} cfg SEC(".maps");

/*
 * In-flight state between sys_enter and sys_exit lives in task-local storage: one slot
 * per thread, allocated on its first traced syscall and freed with the thread. No hash
 * insert/delete per syscall and nothing to fill up; `kind == 0` marks an idle slot.
 * (read/write-like calls need none: see io_exit.)
 */
struct stash {
	__u32 kind;
	__s32 fd;
	__u32 flags;
	__u32 via;
	__u64 aux;        /* clone flags, accept4 flags, listen backlog */
	__u32 id[3];
	__u16 addr_len;
	__u8 muted;       /* close: the fd was muted (hidden path, allowlisted peer) */
	__u8 _pad;
	union {
		__u8 addr[112];           /* sockaddr copied at sys_enter */
		struct pm_io_counts io;   /* close: the aggregate taken at sys_enter */
	};
};

/* path syscalls: the record is built in place, the filter decision kept for sys_exit */
struct path_stash {
	__u32 kind;       /* PMK_* while a path syscall is in flight */
	__u32 filter;     /* FILTER_* decision taken at entry */
	__u32 magic;      /* FILTER_MAGIC: fs the opened file must be on to stay hidden */
	__u32 _pad;
	struct pm_file f; /* the record, built in place */
	char _slack[8];   /* the unrolled ".." scan may look 3 bytes past path2's last byte */
};
#define FILTER_NONE 0
#define FILTER_HIDE 1   /* filtered: a successful open mutes its fd */
#define FILTER_MAGIC 2  /* filtered if the opened file is on fs `magic` */

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stash);
} ts_misc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct path_stash);
} ts_path SEC(".maps");

/* keyed by tgid: exec replaces the thread id of a non-leader caller */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct pm_exec);
} inflight_exec SEC(".maps");

/* per-CPU scratch: records too big for the 512-byte BPF stack are built here */
struct scratch {
	struct pm_exec exec;
	struct fold_val fv;      /* a new fold entry, too big for the stack */
	struct pm_prefix_key pk; /* rename targets: their path is not preceded by a prefixlen slot */
	struct pm_noise_key nk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* ----------------------------------------------------------- utilities */

enum stat_field { ST_ATTEMPT, ST_DROP, ST_STASH, ST_AGG, ST_PROC, ST_IO, ST_DROP_CRIT, ST_DROP_NET, ST_DROP_HIGH, ST_DROP_LOW, ST_FOLDED, ST_FOLD_FULL };

static __always_inline void stat_inc(enum stat_field f, __u64 n)
{
	__u32 zero = 0;
	struct pm_stats *s = bpf_map_lookup_elem(&stats, &zero);

	if (!s)
		return;
	/* atomic: the flush iterator runs preemptible and shares the CPU's slot */
	switch (f) {
	case ST_ATTEMPT: __sync_fetch_and_add(&s->rb_attempts, n); break;
	case ST_DROP: __sync_fetch_and_add(&s->rb_drops, n); break;
	case ST_STASH: __sync_fetch_and_add(&s->stash_full, n); break;
	case ST_AGG: __sync_fetch_and_add(&s->agg_full, n); break;
	case ST_PROC: __sync_fetch_and_add(&s->proc_full, n); break;
	case ST_IO: __sync_fetch_and_add(&s->io_calls, n); break;
	case ST_DROP_CRIT: __sync_fetch_and_add(&s->rb_drops_crit, n); break;
	case ST_DROP_NET: __sync_fetch_and_add(&s->rb_drops_net, n); break;
	case ST_DROP_HIGH: __sync_fetch_and_add(&s->rb_drops_high, n); break;
	case ST_DROP_LOW: __sync_fetch_and_add(&s->rb_drops_low, n); break;
	case ST_FOLDED: __sync_fetch_and_add(&s->opens_folded, n); break;
	case ST_FOLD_FULL: __sync_fetch_and_add(&s->fold_full, n); break;
	}
}

/* The consumer polls the ring on a timer, so no wakeup is ever needed: skip the irq_work. */
#define RB_FLAGS BPF_RB_NO_WAKEUP

/*
 * Four priority classes (PM_PRIO_* in provmon.h): class p may fill the ring up to (8 - p)/8 of
 * its size; past that its records are shed (counted per class), so every class keeps an eighth of
 * the ring that no lower class can take. AVAIL_DATA is what the consumer has not taken yet, read
 * without locking: a racy estimate is fine for a watermark.
 */
static __always_inline void rb_dropped(int prio)
{
	stat_inc(ST_DROP, 1);
	stat_inc(ST_DROP_CRIT + prio, 1); /* the per-class counters follow PM_PRIO_* order */
}

static __always_inline int rb_shed(int prio)
{
	__u64 size, used;

	if (prio == PM_PRIO_CRIT)
		return 0;
	size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
	used = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (used <= size - (size >> 3) * prio) /* class p may fill (8 - p)/8 of the ring */
		return 0;
	rb_dropped(prio);
	return 1;
}

static __always_inline void *rb_reserve(__u32 size, int prio)
{
	void *p;

	stat_inc(ST_ATTEMPT, 1);
	if (rb_shed(prio))
		return NULL;
	p = bpf_ringbuf_reserve(&events, size, 0);
	if (!p)
		rb_dropped(prio);
	return p;
}

static __always_inline void rb_output(void *data, __u32 size, int prio)
{
	stat_inc(ST_ATTEMPT, 1);
	if (rb_shed(prio))
		return;
	if (bpf_ringbuf_output(&events, data, size, RB_FLAGS))
		rb_dropped(prio);
}

static __always_inline __u32 cur_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline int is_muted(__u32 tgid)
{
	struct pm_proc_state *ps = bpf_map_lookup_elem(&proc_state, &tgid);

	return ps && ps->mute;
}

/* Fill the header from the current task. Leaves h->flags alone (callers set truncation bits). */
static __noinline void fill_hdr(struct pm_hdr *h, __u16 kind, __u32 size, __s64 ret)
{
	struct task_struct *t = bpf_get_current_task_btf(); /* trusted: plain loads, no probe-read calls */
	const struct cred *cred = t->cred;
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();

	if (!h)
		return;
	h->kind = kind;
	h->size = size;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->pid = (__u32)id;
	h->tgid = id >> 32;
	h->ppid = t->real_parent->tgid;
	h->uid = (__u32)ug;
	h->gid = ug >> 32;
	h->euid = cred->euid.val;
	h->egid = cred->egid.val;
	h->_reserved = 0;
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->start_ns = t->group_leader->start_boottime;
	h->ret = ret;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}

#define TASK_STORAGE(map, create) \
	bpf_task_storage_get(&map, bpf_get_current_task_btf(), 0, (create) ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0)

static __always_inline void stash_put(struct stash *s)
{
	struct stash *v = TASK_STORAGE(ts_misc, 1);

	if (!v) {
		stat_inc(ST_STASH, 1);
		return;
	}
	__builtin_memcpy(v, s, sizeof(*s));
}

/* the thread's in-flight misc stash, or NULL when idle */
static __always_inline struct stash *stash_get(void)
{
	struct stash *v = TASK_STORAGE(ts_misc, 0);

	return v && v->kind ? v : NULL;
}

/* struct file * for fd in the current task, or NULL */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline struct sock *fd_sock(int fd)
{
	struct file *f = fd_file(fd);
	struct socket *s;

	if (!f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	s = BPF_CORE_READ(f, private_data);
	return s ? BPF_CORE_READ(s, sk) : NULL;
}

/* ---------------------------------------------------------- aggregates */

static __always_inline struct pm_proc_state *proc_state_get(__u32 tgid, int create)
{
	struct pm_proc_state *ps = bpf_map_lookup_elem(&proc_state, &tgid), init = {};

	if (ps || !create)
		return ps;
	bpf_map_update_elem(&proc_state, &tgid, &init, BPF_NOEXIST);
	ps = bpf_map_lookup_elem(&proc_state, &tgid);
	if (!ps)
		stat_inc(ST_PROC, 1);
	return ps;
}

static __always_inline void high_fds_add(__u32 tgid, int fd, int delta)
{
	struct pm_proc_state *ps, init = {};

	if (fd < PM_LOW_FDS)
		return;
	ps = bpf_map_lookup_elem(&proc_state, &tgid);
	if (!ps) {
		if (delta < 0)
			return;
		bpf_map_update_elem(&proc_state, &tgid, &init, BPF_NOEXIST);
		ps = bpf_map_lookup_elem(&proc_state, &tgid);
		if (!ps) {
			stat_inc(ST_PROC, 1);
			return;
		}
	}
	__sync_fetch_and_add(&ps->high_fds, delta);
}

static __always_inline int io_has_data(struct pm_io_counts *c)
{
	return c->rd_calls || c->wr_calls || c->errors;
}

/* Emit a PMK_IO / PMK_CLOSE record from the current task's context. */
static __noinline void emit_io(__u16 kind, int fd, __u32 reason, struct pm_io_counts *c, __s64 ret)
{
	struct pm_io *r;

	if (!c)
		return;
	r = rb_reserve(sizeof(*r), PM_PRIO_LOW);
	if (!r)
		return;
	r->h.flags = 0;
	fill_hdr(&r->h, kind, sizeof(*r), ret);
	r->fd = fd;
	r->reason = reason;
	__builtin_memcpy(&r->io, c, sizeof(r->io));
	bpf_ringbuf_submit(r, RB_FLAGS);
}

/*
 * Aggregate entries live as long as their process: close and fd reuse zero them in
 * place instead of deleting (an open/read/close loop would otherwise pay a hash insert
 * and delete per file). Process exit deletes them.
 */
static __always_inline void agg_clear(struct agg_val *v, __u32 mute)
{
	__builtin_memset(&v->io, 0, sizeof(v->io));
	v->muted = mute;
	v->peer = 0;
	v->fold_dev = 0;
	v->fold_ino = 0;
}

/* ------------------------------------------------------------- folding */

static __always_inline void io_counts_add(struct pm_io_counts *dst, struct pm_io_counts *src)
{
	__sync_fetch_and_add(&dst->rd_calls, src->rd_calls);
	__sync_fetch_and_add(&dst->rd_bytes, src->rd_bytes);
	__sync_fetch_and_add(&dst->wr_calls, src->wr_calls);
	__sync_fetch_and_add(&dst->wr_bytes, src->wr_bytes);
	__sync_fetch_and_add(&dst->errors, src->errors);
	if (src->rd_first_ns && (!dst->rd_first_ns || src->rd_first_ns < dst->rd_first_ns))
		dst->rd_first_ns = src->rd_first_ns;
	if (src->rd_last_ns > dst->rd_last_ns)
		dst->rd_last_ns = src->rd_last_ns;
	if (src->wr_first_ns && (!dst->wr_first_ns || src->wr_first_ns < dst->wr_first_ns))
		dst->wr_first_ns = src->wr_first_ns;
	if (src->wr_last_ns > dst->wr_last_ns)
		dst->wr_last_ns = src->wr_last_ns;
}

/*
 * An aggregate that belongs to a folded open has no fd the consumer knows of: its I/O is
 * added to the fold entry instead of being reported. Returns 1 when it was (or the entry is
 * gone: the process exited), 0 for an ordinary fd.
 */
static __always_inline int agg_to_fold(__u32 tgid, struct agg_val *v, struct pm_io_counts *c)
{
	struct fold_key fk = { .tgid = tgid, .dev = v->fold_dev, .ino = v->fold_ino };
	struct fold_val *fv;

	if (!v->fold_ino)
		return 0;
	fv = bpf_map_lookup_elem(&fold, &fk);
	if (fv)
		io_counts_add(&fv->io, c);
	return 1;
}


/*
 * The fd number is being (re)assigned by open/socket/accept/dup: whatever aggregate
 * exists belongs to an earlier file that was closed without close(2) (dup2 over it,
 * close-on-exec, close_range). Emit it, then start clean; with mute, the new fd is one
 * whose I/O must not be reported at all.
 */
static __always_inline void agg_reset(__u32 tgid, int fd, int mute)
{
	struct agg_key k = { .tgid = tgid, .fd = fd };
	struct agg_val *v = bpf_map_lookup_elem(&agg, &k);

	if (v) {
		if (!v->muted && io_has_data(&v->io) && !agg_to_fold(tgid, v, &v->io))
			emit_io(PMK_IO, fd, PM_IO_REUSE, &v->io, 0);
		agg_clear(v, mute);
		return;
	}
	if (mute) {
		struct agg_val nv = { .muted = 1 };

		if (!bpf_map_update_elem(&agg, &k, &nv, BPF_NOEXIST))
			high_fds_add(tgid, fd, 1);
		else
			stat_inc(ST_AGG, 1);
	}
}

static __always_inline int fd_muted(__u32 tgid, int fd)
{
	struct agg_key k = { .tgid = tgid, .fd = fd };
	struct agg_val *v = bpf_map_lookup_elem(&agg, &k);

	return v && v->muted;
}

#define DIR_RD 0
#define DIR_WR 1

/* Fold one call into the (tgid, fd) aggregate. Returns the entry, NULL if muted or the map is full. */
static __always_inline struct agg_val *agg_add(__u32 tgid, int fd, int dir, __s64 ret)
{
	struct agg_key k = { .tgid = tgid, .fd = fd };
	struct agg_val *v = bpf_map_lookup_elem(&agg, &k);
	__u64 now;

	if (!v) {
		struct agg_val nv = {};

		if (!bpf_map_update_elem(&agg, &k, &nv, BPF_NOEXIST))
			high_fds_add(tgid, fd, 1);
		v = bpf_map_lookup_elem(&agg, &k);
		if (!v) {
			stat_inc(ST_AGG, 1);
			return NULL;
		}
	}
	if (v->muted)
		return NULL;
	stat_inc(ST_IO, 1);
	if (ret < 0) {
		__sync_fetch_and_add(&v->io.errors, 1);
		return v;
	}
	now = bpf_ktime_get_boot_ns();
	if (dir == DIR_RD) {
		__sync_fetch_and_add(&v->io.rd_calls, 1);
		__sync_fetch_and_add(&v->io.rd_bytes, ret);
		if (!v->io.rd_first_ns)
			v->io.rd_first_ns = now;
		v->io.rd_last_ns = now;
	} else {
		__sync_fetch_and_add(&v->io.wr_calls, 1);
		__sync_fetch_and_add(&v->io.wr_bytes, ret);
		if (!v->io.wr_first_ns)
			v->io.wr_first_ns = now;
		v->io.wr_last_ns = now;
	}
	return v;
}

/* Remove the aggregate of (tgid, fd) and emit it (unless muted). Used by exit. */
static __always_inline void agg_take_emit(__u32 tgid, int fd, __u32 reason, int quiet)
{
	struct agg_key k = { .tgid = tgid, .fd = fd };
	struct agg_val *v = bpf_map_lookup_elem(&agg, &k);

	if (!v)
		return;
	if (!quiet && !v->muted && io_has_data(&v->io) && !agg_to_fold(tgid, v, &v->io))
		emit_io(PMK_IO, fd, reason, &v->io, 0);
	bpf_map_delete_elem(&agg, &k);
}

struct exit_sweep {
	__u32 tgid;
	__u32 quiet;
	__u32 left;       /* high-fd entries not found yet */
};

static long exit_probe_cb(__u32 i, struct exit_sweep *c)
{
	struct agg_key k = { .tgid = c->tgid, .fd = PM_LOW_FDS + i };
	struct agg_val *v = bpf_map_lookup_elem(&agg, &k);

	if (!c->left)
		return 1;
	if (!v)
		return 0;
	if (!c->quiet && !v->muted && io_has_data(&v->io) && !agg_to_fold(c->tgid, v, &v->io))
		emit_io(PMK_IO, k.fd, PM_IO_EXIT, &v->io, 0);
	bpf_map_delete_elem(&agg, &k);
	c->left--;
	return 0;
}

static long exit_sweep_cb(struct bpf_map *map, struct agg_key *key, struct agg_val *v, struct exit_sweep *c)
{
	if (key->tgid != c->tgid)
		return 0;
	if (!c->quiet && !v->muted && io_has_data(&v->io) && !agg_to_fold(c->tgid, v, &v->io))
		emit_io(PMK_IO, key->fd, PM_IO_EXIT, &v->io, 0);
	bpf_map_delete_elem(map, key);
	return 0;
}

/* The file version a fold entry stands for. Timestamp fields moved across kernels: CO-RE picks the one this kernel has. */
struct file_version {
	__u64 gen;
	__s64 ctime_sec;
	__s64 mtime_sec;
	__s64 size;
	__u32 ctime_nsec;
	__u32 mtime_nsec;
	__u32 dev;
	__u64 ino;
};

struct inode___pre611 {
	struct timespec64 __i_ctime; /* 6.6 - 6.10 */
	struct timespec64 __i_mtime; /* 6.7 - 6.10 */
} __attribute__((preserve_access_index));

struct inode___pre66 {
	struct timespec64 i_ctime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

static __always_inline void inode_times(struct inode *in, struct file_version *v)
{
	struct inode___pre611 *o = (void *)in;
	struct inode___pre66 *q = (void *)in;

	if (bpf_core_field_exists(in->i_ctime_sec)) {
		v->ctime_sec = BPF_CORE_READ(in, i_ctime_sec);
		v->ctime_nsec = BPF_CORE_READ(in, i_ctime_nsec);
	} else if (bpf_core_field_exists(o->__i_ctime)) {
		v->ctime_sec = BPF_CORE_READ(o, __i_ctime.tv_sec);
		v->ctime_nsec = BPF_CORE_READ(o, __i_ctime.tv_nsec);
	} else {
		v->ctime_sec = BPF_CORE_READ(q, i_ctime.tv_sec);
		v->ctime_nsec = BPF_CORE_READ(q, i_ctime.tv_nsec);
	}
	if (bpf_core_field_exists(in->i_mtime_sec)) {
		v->mtime_sec = BPF_CORE_READ(in, i_mtime_sec);
		v->mtime_nsec = BPF_CORE_READ(in, i_mtime_nsec);
	} else if (bpf_core_field_exists(o->__i_mtime)) {
		v->mtime_sec = BPF_CORE_READ(o, __i_mtime.tv_sec);
		v->mtime_nsec = BPF_CORE_READ(o, __i_mtime.tv_nsec);
	} else {
		v->mtime_sec = BPF_CORE_READ(q, i_mtime.tv_sec);
		v->mtime_nsec = BPF_CORE_READ(q, i_mtime.tv_nsec);
	}
}

/* Regular files only (0 otherwise): a pipe, socket or device has no version to compare. */
static __always_inline int file_version(struct file *file, struct file_version *v)
{
	struct inode *in = BPF_CORE_READ(file, f_inode);
	struct ino_key ik = {};
	__u64 *gen;

	if (!in || (BPF_CORE_READ(in, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	v->ino = BPF_CORE_READ(in, i_ino);
	v->dev = BPF_CORE_READ(in, i_sb, s_dev);
	v->size = BPF_CORE_READ(in, i_size);
	inode_times(in, v);
	ik.dev = v->dev;
	ik.ino = v->ino;
	gen = bpf_map_lookup_elem(&ino_gen, &ik);
	v->gen = gen ? *gen : 0;
	return 1;
}

/* A write-open makes a new version of the file for every fold entry on it. */
static __always_inline void file_version_bump(struct file *file)
{
	struct inode *in = file ? BPF_CORE_READ(file, f_inode) : NULL;
	struct ino_key ik = {};
	__u64 one = 1, *gen;

	if (!in || (BPF_CORE_READ(in, i_mode) & S_IFMT) != S_IFREG)
		return;
	ik.dev = BPF_CORE_READ(in, i_sb, s_dev);
	ik.ino = BPF_CORE_READ(in, i_ino);
	gen = bpf_map_lookup_elem(&ino_gen, &ik);
	if (gen)
		__sync_fetch_and_add(gen, 1);
	else
		bpf_map_update_elem(&ino_gen, &ik, &one, BPF_ANY);
}

static __always_inline int same_version(struct fold_val *fv, struct file_version *v)
{
	return fv->gen == v->gen && fv->ctime_sec == v->ctime_sec && fv->ctime_nsec == v->ctime_nsec &&
	       fv->mtime_sec == v->mtime_sec && fv->mtime_nsec == v->mtime_nsec && fv->size == v->size;
}

/*
 * Report a fold entry's pending count (and the summed I/O of its fds) as one PMK_FOLD record.
 * When the ring has no room the count stays in the entry and the next flush reports it: a fold
 * record is never dropped, only delayed, so it is counted as produced only once written.
 * `from_task`: the current task is the folding process (exit, version change); otherwise
 * (flush) only the key's tgid is known.
 */
static __noinline void fold_emit(struct fold_key *k, struct fold_val *fv, int from_task)
{
	struct pm_fold *r;
	__u64 size;
	__u32 len;

	if (!k || !fv || !fv->count)
		return;
	size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > size - (size >> 3) * PM_PRIO_LOW)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r)
		return;
	stat_inc(ST_ATTEMPT, 1);
	len = fv->path_len & (PM_PATH_MAX - 1);
	__builtin_memset(&r->h, 0, sizeof(r->h));
	if (from_task) {
		fill_hdr(&r->h, PMK_FOLD, offsetof(struct pm_fold, path) + len + 1, 0);
	} else {
		r->h.kind = PMK_FOLD;
		r->h.flags = PMF_NO_TASK;
		r->h.size = offsetof(struct pm_fold, path) + len + 1;
		r->h.ts_ns = bpf_ktime_get_boot_ns();
		r->h.pid = k->tgid;
		r->h.tgid = k->tgid;
	}
	r->dev = k->dev;
	r->ino = k->ino;
	r->open_flags = fv->open_flags;
	r->count = __sync_lock_test_and_set(&fv->count, 0);
	r->first_ns = __sync_lock_test_and_set(&fv->first_ns, 0);
	r->last_ns = fv->last_ns;
	r->io.rd_calls = __sync_lock_test_and_set(&fv->io.rd_calls, 0);
	r->io.rd_bytes = __sync_lock_test_and_set(&fv->io.rd_bytes, 0);
	r->io.wr_calls = __sync_lock_test_and_set(&fv->io.wr_calls, 0);
	r->io.wr_bytes = __sync_lock_test_and_set(&fv->io.wr_bytes, 0);
	r->io.errors = __sync_lock_test_and_set(&fv->io.errors, 0);
	r->io.rd_first_ns = __sync_lock_test_and_set(&fv->io.rd_first_ns, 0);
	r->io.wr_first_ns = __sync_lock_test_and_set(&fv->io.wr_first_ns, 0);
	r->io.rd_last_ns = fv->io.rd_last_ns;
	r->io.wr_last_ns = fv->io.wr_last_ns;
	r->io._pad = 0;
	r->path_len = len;
	r->_pad[0] = r->_pad[1] = r->_pad[2] = 0;
	bpf_probe_read_kernel(r->path, PM_PATH_MAX, fv->path); /* one helper call, not 64 unrolled copies to verify */
	bpf_ringbuf_submit(r, RB_FLAGS);
}

static __always_inline int fold_enabled(void)
{
	__u32 zero = 0;
	struct pm_cfg *c = bpf_map_lookup_elem(&cfg, &zero);

	return c && c->fold;
}

/* the new fd of a folded open: mark its aggregate so its I/O and close join the fold entry */
static __always_inline void agg_mark_fold(__u32 tgid, int fd, struct fold_key *fk)
{
	struct agg_key k = { .tgid = tgid, .fd = fd };
	struct agg_val *v;

	agg_reset(tgid, fd, 0);
	v = bpf_map_lookup_elem(&agg, &k);
	if (!v) {
		struct agg_val nv = {};

		if (!bpf_map_update_elem(&agg, &k, &nv, BPF_NOEXIST))
			high_fds_add(tgid, fd, 1);
		v = bpf_map_lookup_elem(&agg, &k);
		if (!v) {
			stat_inc(ST_AGG, 1);
			return;
		}
	}
	v->fold_dev = fk->dev;
	v->fold_ino = fk->ino;
}

/*
 * A successful read-only open of a regular file. Returns 1 when it was folded (no record):
 * the process opened this very version of the file before and that open was reported.
 * Otherwise the caller reports the open; before that, a pending count for an older version
 * is reported (so the order stays: earlier reads, then the new version), and the entry now
 * follows this version.
 */
static __always_inline int open_fold(__u32 tgid, int fd, struct file *file, struct pm_file *f)
{
	struct file_version ver = {};
	struct fold_key fk = { .tgid = tgid };
	struct fold_val *fv;
	struct scratch *sc;
	__u64 now;

	if (!file || !fold_enabled() || !file_version(file, &ver))
		return 0;
	fk.dev = ver.dev;
	fk.ino = ver.ino;
	fv = bpf_map_lookup_elem(&fold, &fk);
	if (fv && same_version(fv, &ver)) {
		now = bpf_ktime_get_boot_ns();
		if (__sync_fetch_and_add(&fv->count, 1) == 0)
			fv->first_ns = now;
		fv->last_ns = now;
		agg_mark_fold(tgid, fd, &fk);
		stat_inc(ST_FOLDED, 1);
		return 1;
	}
	if (fv) {
		fold_emit(&fk, fv, 1);
		fv->gen = ver.gen;
		fv->ctime_sec = ver.ctime_sec;
		fv->ctime_nsec = ver.ctime_nsec;
		fv->mtime_sec = ver.mtime_sec;
		fv->mtime_nsec = ver.mtime_nsec;
		fv->size = ver.size;
		fv->open_flags = f->flags;
		fv->path_len = f->path_len;
		bpf_probe_read_kernel(fv->path, PM_PATH_MAX, f->path);
		return 0;
	}
	sc = get_scratch();
	if (!sc)
		return 0;
	__builtin_memset(&sc->fv, 0, sizeof(sc->fv));
	sc->fv.gen = ver.gen;
	sc->fv.ctime_sec = ver.ctime_sec;
	sc->fv.ctime_nsec = ver.ctime_nsec;
	sc->fv.mtime_sec = ver.mtime_sec;
	sc->fv.mtime_nsec = ver.mtime_nsec;
	sc->fv.size = ver.size;
	sc->fv.open_flags = f->flags;
	sc->fv.path_len = f->path_len;
	bpf_probe_read_kernel(sc->fv.path, PM_PATH_MAX, f->path);
	if (bpf_map_update_elem(&fold, &fk, &sc->fv, BPF_NOEXIST)) {
		stat_inc(ST_FOLD_FULL, 1);
		return 0;
	}
	{
		struct pm_proc_state *ps = proc_state_get(tgid, 1);

		if (ps)
			__sync_fetch_and_add(&ps->folds, 1);
	}
	return 0;
}

struct fold_sweep {
	__u32 tgid;
	__u32 quiet;
};

/* process exit: report and free its fold entries */
static long fold_exit_cb(struct bpf_map *map, struct fold_key *key, struct fold_val *fv, struct fold_sweep *c)
{
	if (key->tgid != c->tgid)
		return 0;
	if (!c->quiet)
		fold_emit(key, fv, 1);
	bpf_map_delete_elem(map, key);
	return 0;
}

/* ------------------------------------------------------------- filters */

/* v4-mapped IPv6 addresses are normalised to AF_INET so one rule covers both socket kinds */
struct sa_info {
	__u16 family;
	__u16 port;
	__u8 addr[16];
};

static __always_inline int parse_sockaddr(const __u8 *sa, __u32 len, struct sa_info *out, int normalise)
{
	__u16 fam;

	if (len < 2)
		return -1;
	fam = *(__u16 *)sa;
	out->family = fam;
	if (fam == AF_INET && len >= 8) {
		out->port = bpf_ntohs(*(__u16 *)(sa + 2));
		__builtin_memcpy(out->addr, sa + 4, 4);
		return 0;
	}
	if (fam == AF_INET6 && len >= 24) {
		out->port = bpf_ntohs(*(__u16 *)(sa + 2));
		__builtin_memcpy(out->addr, sa + 8, 16);
		if (normalise && *(__u64 *)out->addr == 0 && *(__u16 *)(out->addr + 8) == 0 &&
		    *(__u16 *)(out->addr + 10) == 0xffff) {
			out->family = AF_INET;
			__builtin_memcpy(out->addr, sa + 20, 4);
			__builtin_memset(out->addr + 4, 0, 12);
		}
		return 0;
	}
	return -1;
}

static __always_inline int net_allowed(__u16 family, __u16 port, const __u8 *addr)
{
	struct pm_net_key k = {};

	k.family = family;
	k.port = port;
	if (family == AF_INET6 && *(__u64 *)addr == 0 && *(__u16 *)(addr + 8) == 0 &&
	    *(__u16 *)(addr + 10) == 0xffff) {
		k.family = AF_INET;
		__builtin_memcpy(k.addr, addr + 12, 4);
	} else if (family == AF_INET) {
		__builtin_memcpy(k.addr, addr, 4);
	} else if (family == AF_INET6) {
		__builtin_memcpy(k.addr, addr, 16);
	} else {
		return 0;
	}
	return bpf_map_lookup_elem(&netallow, &k) != NULL;
}

/* a ".." component could climb out of a filtered prefix: such paths are never filtered */
struct dotdot {
	const char *p;
	__u32 len;
	__u32 found;
};

/* 8 positions per iteration: this runs for every path a prefix rule matched (ld.so's libraries) */
static long dotdot_step(__u32 i, struct dotdot *c)
{
	const char *p = c->p;
	__u32 base = i * 8;

	if (!p)
		return 1;
#pragma unroll
	for (int j = 0; j < 8; j++) {
		__u32 k = base + j;

		if (k + 2 >= c->len || k > PM_PATH_MAX - 4)
			return 1;
		if (p[k] == '/' && p[k + 1] == '.' && p[k + 2] == '.' && (k + 3 >= c->len || p[k + 3] == '/')) {
			c->found = 1;
			return 1;
		}
	}
	return 0;
}

static __always_inline int has_dotdot(const char *p, __u32 len)
{
	struct dotdot c = { .p = p, .len = len };

	bpf_loop(PM_PATH_MAX / 8, dotdot_step, &c, 0);
	return c.found;
}

/*
 * Path-prefix filter. Returns 1 when the (absolute) path falls under a rule; *magic is
 * then the filesystem magic an open must also be on (0 = any), so that
 * "/proc/self/root/etc/shadow" (ext4 reached through /proc) is not hidden. A rule matches
 * at a component boundary ("/proc" hides "/proc/1", not "/procx") unless it ended in '*'.
 * `key` is a pm_prefix_key laid over memory whose data bytes are the path.
 */
static __always_inline int prefix_match(struct pm_prefix_key *key, const char *path, __u32 len, __u32 *magic)
{
	__u32 bits;

	if (len == 0 || path[0] != '/')
		return 0;
	bits = (len > PM_PREFIX_MAX ? PM_PREFIX_MAX : len) * 8;
	for (int i = 0; i < 4; i++) {
		struct pm_prefix_val *r;
		__u32 rl;

		key->prefixlen = bits;
		r = bpf_map_lookup_elem(&prefixes, key);
		if (!r)
			return 0;
		rl = r->len;
		if (rl == 0 || rl > PM_PREFIX_MAX)
			return 0;
		if (!(r->flags & PM_PREFIX_RAW) && rl < len) {
			char c = path[rl & (PM_PATH_MAX - 1)];
			char last = path[(rl - 1) & (PM_PATH_MAX - 1)];

			if (c != '/' && last != '/') {
				/* "/procx" under rule "/proc": retry with strictly shorter rules */
				bits = rl * 8 - 1;
				continue;
			}
		}
		*magic = r->fs_magic;
		return !has_dotdot(path, len);
	}
	return 0;
}

/* pm_file.path is preceded by the u32 _pad: together they are a pm_prefix_key, no copy */
static __always_inline int prefix_filtered(struct pm_file *f, __u32 *magic)
{
	int r = prefix_match((struct pm_prefix_key *)&f->_pad, f->path, f->path_len, magic);

	f->_pad = 0;
	return r;
}

static __always_inline int prefix_filtered_copy(struct scratch *sc, const char *path, __u32 len, __u32 *magic)
{
	bpf_probe_read_kernel(sc->pk.data, PM_PREFIX_MAX, path);
	return prefix_match(&sc->pk, path, len, magic);
}

static __always_inline __u32 fd_fs_magic(int fd)
{
	struct file *f = fd_file(fd);

	return f ? BPF_CORE_READ(f, f_inode, i_sb, s_magic) : 0;
}

/* ------------------------------------------------------ process events */

#define EXEC_HEAD offsetof(struct pm_exec, args)

struct argv_walk {
	struct pm_exec *e;
	const char *const *argv;
	__u32 off;
	__u16 argc;
	__u16 flags;
};

static long argv_step(__u32 i, struct argv_walk *w)
{
	struct pm_exec *e = w->e;
	const char *p = NULL;
	__u32 off = w->off;
	long n;

	if (!e)
		return 1;
	if (bpf_probe_read_user(&p, sizeof(p), &w->argv[i])) {
		w->flags |= PMF_READ_FAULT;
		return 1;
	}
	if (!p)
		return 1;
	if (i >= PM_ARGC_MAX || off > PM_ARGS_MAX - PM_ARG_MAX) {
		w->flags |= PMF_TRUNC_ARGS; /* more arguments than we keep */
		return 1;
	}
	n = bpf_probe_read_user_str(&e->args[off & (PM_ARGS_MAX - 1)], PM_ARG_MAX, p);
	if (n <= 0) {
		w->flags |= PMF_READ_FAULT;
		return 1;
	}
	if (n == PM_ARG_MAX)
		w->flags |= PMF_TRUNC_ARG;
	w->off = off + n;
	w->argc++;
	return 0;
}

/* argv as NUL-separated strings; bpf_loop so the verifier checks one iteration, not 32 */
static __always_inline void read_argv(struct pm_exec *e, const char *const *argv)
{
	struct argv_walk w = { .e = e, .argv = argv };

	bpf_loop(PM_ARGC_MAX + 1, argv_step, &w, 0);
	e->argc = w.argc;
	e->args_len = w.off;
	e->h.flags |= w.flags;
}

static __always_inline int exec_enter(__u16 kind, int dirfd, const char *filename, const char *const *argv, __u32 at_flags)
{
	__u32 tgid = cur_tgid();
	struct pm_proc_state *ps = bpf_map_lookup_elem(&proc_state, &tgid);
	struct scratch *sc;
	struct pm_exec *e;
	long n;

	/* noise is re-decided at exec, so only the sensor's own tree is skipped here */
	if (ps && (ps->mute & PM_MUTE_SELF))
		return 0;
	sc = get_scratch();
	if (!sc)
		return 0;
	e = &sc->exec;
	e->h.kind = kind;
	e->h.flags = 0;
	e->dirfd = dirfd;
	e->at_flags = at_flags;
	e->exe_off = PM_EXE_MAX;
	n = bpf_probe_read_user_str(e->filename, PM_PATH_MAX, filename);
	if (n <= 0) {
		e->filename_len = 0;
		e->h.flags |= PMF_READ_FAULT;
	} else {
		e->filename_len = n - 1;
		if (n == PM_PATH_MAX)
			e->h.flags |= PMF_TRUNC_PATH;
	}
	read_argv(e, argv);
	if (bpf_map_update_elem(&inflight_exec, &tgid, e, BPF_ANY))
		stat_inc(ST_STASH, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter(PMK_EXECVE, AT_FDCWD, (const char *)ctx->args[0], (const char *const *)ctx->args[1], 0);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int tp_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter(PMK_EXECVEAT, (int)ctx->args[0], (const char *)ctx->args[1],
			  (const char *const *)ctx->args[2], (__u32)ctx->args[4]);
}

/*
 * Resolve mm->exe_file to an absolute path by walking dentries (and mounts)
 * up to the global root, writing components right to left into e->exe. The
 * path ends at PM_EXE_MAX; returns where it starts. bpf_loop keeps the
 * verifier from expanding every iteration (mount crossings branch).
 */
struct walk {
	struct pm_exec *e;
	struct dentry *d;
	struct mount *m;
	__u32 pos;
	__u32 done;
};

static long walk_step(__u32 i, struct walk *w)
{
	struct dentry *d = w->d, *parent, *root;
	struct mount *m = w->m, *mp;
	struct pm_exec *e = w->e;
	struct qstr q;
	__u32 len, pos = w->pos;

	if (!e)
		return 1;
	root = BPF_CORE_READ(m, mnt.mnt_root);
	parent = BPF_CORE_READ(d, d_parent);
	if (d == root || d == parent) {
		if (d != root)
			return 1;             /* detached subtree: stop, path is partial */
		mp = BPF_CORE_READ(m, mnt_parent);
		if (mp == m) {
			w->done = 1;          /* global root reached */
			return 1;
		}
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = mp;
		return 0;
	}
	q = BPF_CORE_READ(d, d_name);
	len = q.len & 255;
	if (len + 1 > pos)
		return 1;
	pos -= len;
	bpf_probe_read_kernel(&e->exe[pos & (PM_EXE_MAX - 1)], len, q.name);
	pos -= 1;
	e->exe[pos & (PM_EXE_MAX - 1)] = '/';
	w->pos = pos;
	w->d = parent;
	return 0;
}

static __always_inline __u32 resolve_exe(struct pm_exec *e)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct file *f = BPF_CORE_READ(t, mm, exe_file);
	struct walk w = { .e = e, .pos = PM_EXE_MAX };

	if (!f)
		return PM_EXE_MAX;
	w.d = BPF_CORE_READ(f, f_path.dentry);
	w.m = container_of(BPF_CORE_READ(f, f_path.mnt), struct mount, mnt);
	bpf_loop(64, walk_step, &w, 0);
	if (!w.done)
		e->h.flags |= PMF_TRUNC_EXE;
	if (w.pos >= PM_EXE_MAX) {
		e->exe[PM_EXE_MAX - 1] = '/';
		return PM_EXE_MAX - 1;
	}
	return w.pos;
}

SEC("tracepoint/sched/sched_process_exec")
int tp_sched_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 tgid = cur_tgid();
	struct pm_proc_state *ps = bpf_map_lookup_elem(&proc_state, &tgid);
	struct scratch *sc;
	struct pm_exec *e;
	__u32 mute, pos;
	int noisy = 0;

	if (ps && (ps->mute & PM_MUTE_SELF))
		return 0;
	sc = get_scratch();
	if (!sc)
		return 0;
	e = bpf_map_lookup_elem(&inflight_exec, &tgid);
	if (!e) {
		/* exec without a visible execve (kernel usermode helper, or entry missed) */
		e = &sc->exec;
		e->h.kind = PMK_EXECVE;
		e->h.flags = PMF_NO_SYSCALL;
		e->dirfd = AT_FDCWD;
		e->at_flags = 0;
		e->argc = 0;
		e->args_len = 0;
		long n = bpf_probe_read_kernel_str(e->filename, PM_PATH_MAX,
						   (void *)ctx + (ctx->__data_loc_filename & 0xFFFF));
		e->filename_len = n > 0 ? n - 1 : 0;
	}
	__builtin_memset(e->exe, 0, PM_EXE_MAX);
	pos = resolve_exe(e);
	e->exe_off = pos;

	/* noise rule: comm AND executable, both as the new image has them */
	if (pos >= PM_EXE_MAX - PM_NOISE_EXE && !(e->h.flags & PMF_TRUNC_EXE)) {
		bpf_get_current_comm(sc->nk.comm, sizeof(sc->nk.comm));
		__builtin_memcpy(sc->nk.exe, &e->exe[PM_EXE_MAX - PM_NOISE_EXE], PM_NOISE_EXE);
		noisy = bpf_map_lookup_elem(&noise, &sc->nk) != NULL;
	}
	mute = ps ? ps->mute : 0;
	mute = (mute & ~PM_MUTE_NOISE) | (noisy ? PM_MUTE_NOISE : 0);
	if (ps) {
		ps->mute = mute;
	} else if (mute) {
		struct pm_proc_state nps = { .mute = mute };

		if (bpf_map_update_elem(&proc_state, &tgid, &nps, BPF_ANY))
			stat_inc(ST_PROC, 1);
	}

	if (e == &sc->exec && !noisy) {
		__u32 size = EXEC_HEAD;

		fill_hdr(&e->h, PMK_EXECVE, size, 0);
		rb_output(e, size, PM_PRIO_CRIT);
	}
	return 0;
}

static __always_inline int exec_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = cur_tgid();
	struct pm_exec *e = bpf_map_lookup_elem(&inflight_exec, &tgid);
	__u32 size;

	if (!e)
		return 0;
	if (!is_muted(tgid)) {
		size = EXEC_HEAD + (e->args_len & (PM_ARGS_MAX - 1));
		if (e->args_len >= PM_ARGS_MAX)
			size = sizeof(*e);
		fill_hdr(&e->h, e->h.kind, size, ctx->ret);
		rb_output(e, size, PM_PRIO_CRIT);
	}
	bpf_map_delete_elem(&inflight_exec, &tgid);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tp_exit_execve(struct trace_event_raw_sys_exit *ctx) { return exec_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_execveat")
int tp_exit_execveat(struct trace_event_raw_sys_exit *ctx) { return exec_exit(ctx); }

/* clone family: remember flags so sched_process_fork can tell threads from processes */
static __always_inline int clone_enter(__u32 via, __u64 flags)
{
	struct stash s = { .kind = PMK_FORK, .via = via, .aux = flags };

	/* stashed even for muted processes: sched_process_fork propagates the mute to the child */
	stash_put(&s);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone")
int tp_enter_clone(struct trace_event_raw_sys_enter *ctx) { return clone_enter(PM_VIA_CLONE, ctx->args[0]); }

SEC("tracepoint/syscalls/sys_enter_clone3")
int tp_enter_clone3(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0;

	bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[0]); /* clone_args.flags */
	return clone_enter(PM_VIA_CLONE3, flags);
}

SEC("tracepoint/syscalls/sys_enter_fork")
int tp_enter_fork(struct trace_event_raw_sys_enter *ctx) { return clone_enter(PM_VIA_FORK, SIGCHLD); }

SEC("tracepoint/syscalls/sys_enter_vfork")
int tp_enter_vfork(struct trace_event_raw_sys_enter *ctx) { return clone_enter(PM_VIA_VFORK, CLONE_VFORK | CLONE_VM | SIGCHLD); }

SEC("tracepoint/sched/sched_process_fork")
int tp_sched_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u32 ptgid = cur_tgid();
	__u32 child = ctx->child_pid;
	struct stash *s = stash_get();
	struct pm_proc_state *ps;
	struct task_struct *cur, *pt, *ct;
	struct list_head *last;
	struct pm_fork *r;
	__u64 flags = 0;
	__u32 via = PM_VIA_KERNEL;

	if (s && s->kind == PMK_FORK) {
		flags = s->aux;
		via = s->via;
	}
	if (flags & CLONE_THREAD)
		return 0;

	ps = bpf_map_lookup_elem(&proc_state, &ptgid);
	if (ps && ps->mute) {
		/* the child inherits the parent's mute (own tree, or noise until it execs) */
		struct pm_proc_state cps = { .mute = ps->mute };

		if (bpf_map_update_elem(&proc_state, &child, &cps, BPF_ANY))
			stat_inc(ST_PROC, 1);
		return 0;
	}

	r = rb_reserve(sizeof(*r), PM_PRIO_CRIT);
	if (!r)
		return 0;
	r->h.flags = 0;
	fill_hdr(&r->h, PMK_FORK, sizeof(*r), 0);
	r->child_pid = child;
	r->child_tgid = child;
	r->clone_flags = flags;
	r->via = via;
	r->_pad = 0;
	/* the child was just linked last into its real parent's children list */
	r->child_start_ns = 0;
	cur = (struct task_struct *)bpf_get_current_task();
	pt = (flags & CLONE_PARENT) ? BPF_CORE_READ(cur, real_parent) : cur;
	last = BPF_CORE_READ(pt, children.prev);
	ct = (struct task_struct *)((void *)last - bpf_core_field_offset(struct task_struct, sibling));
	if (BPF_CORE_READ(ct, pid) == child)
		r->child_start_ns = BPF_CORE_READ(ct, start_boottime);
	bpf_ringbuf_submit(r, RB_FLAGS);
	return 0;
}

static __always_inline int clone_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct stash *s = stash_get();
	struct pm_fork *r;

	if (!s) /* also the child's return from clone: it has no stash */
		return 0;
	if (s->kind == PMK_FORK && ctx->ret < 0 && !is_muted(cur_tgid())) {
		r = rb_reserve(sizeof(*r), PM_PRIO_CRIT);
		if (r) {
			r->h.flags = 0;
			fill_hdr(&r->h, PMK_FORK, sizeof(*r), ctx->ret);
			r->child_pid = 0;
			r->child_tgid = 0;
			r->clone_flags = s->aux;
			r->child_start_ns = 0;
			r->via = s->via;
			r->_pad = 0;
			bpf_ringbuf_submit(r, RB_FLAGS);
		}
	}
	s->kind = 0;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone")
int tp_exit_clone(struct trace_event_raw_sys_exit *ctx) { return clone_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_clone3")
int tp_exit_clone3(struct trace_event_raw_sys_exit *ctx) { return clone_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_fork")
int tp_exit_fork(struct trace_event_raw_sys_exit *ctx) { return clone_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_vfork")
int tp_exit_vfork(struct trace_event_raw_sys_exit *ctx) { return clone_exit(ctx); }

SEC("tracepoint/sched/sched_process_exit")
int tp_sched_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	__u32 tgid = cur_tgid();
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct pm_proc_state *ps;
	struct exit_sweep sw;
	struct pm_exit *r;
	int group_dead;

	/* in-flight stashes are task storage: the kernel frees them with the task */
	if (bpf_core_field_exists(ctx->group_dead))
		group_dead = BPF_CORE_READ(ctx, group_dead);
	else
		group_dead = BPF_CORE_READ(t, signal, live.counter) == 0;
	if (!group_dead)
		return 0;

	bpf_map_delete_elem(&inflight_exec, &tgid);
	ps = bpf_map_lookup_elem(&proc_state, &tgid);
	sw.tgid = tgid;
	sw.quiet = ps && ps->mute;

	/* the process's fds are closed by the kernel, not by close(2): flush their aggregates */
	for (int fd = 0; fd < PM_LOW_FDS; fd++)
		agg_take_emit(tgid, fd, PM_IO_EXIT, sw.quiet);
	if (ps && ps->high_fds) {
		/* fds 32..4095 by direct lookup (cheap); a full map sweep only for what remains */
		sw.left = ps->high_fds;
		bpf_loop(4096 - PM_LOW_FDS, exit_probe_cb, &sw, 0);
		if (sw.left)
			bpf_for_each_map_elem(&agg, exit_sweep_cb, &sw, 0);
	}
	/* after the aggregates: folded fds' I/O has joined its fold entries by now */
	if (ps && ps->folds) {
		struct fold_sweep fs = { .tgid = tgid, .quiet = sw.quiet };

		bpf_for_each_map_elem(&fold, fold_exit_cb, &fs, 0);
	}

	if (!sw.quiet) {
		r = rb_reserve(sizeof(*r), PM_PRIO_CRIT);
		if (r) {
			r->h.flags = 0;
			fill_hdr(&r->h, PMK_EXIT, sizeof(*r), 0);
			r->exit_code = BPF_CORE_READ(t, exit_code);
			r->_pad = 0;
			bpf_ringbuf_submit(r, RB_FLAGS);
		}
	}
	bpf_map_delete_elem(&proc_state, &tgid);
	return 0;
}

/* --------------------------------------------------------- file events */

#define FILE_HEAD offsetof(struct pm_file, path)

static __always_inline long read_path(struct pm_file *f, char *dst, const char *src)
{
	long n = bpf_probe_read_user_str(dst, PM_PATH_MAX, src);

	if (n <= 0) {
		dst[0] = 0;
		f->h.flags |= PMF_READ_FAULT;
		return 0;
	}
	if (n == PM_PATH_MAX)
		f->h.flags |= PMF_TRUNC_PATH;
	return n - 1;
}

static __always_inline int is_open_kind(__u32 kind)
{
	return kind == PMK_OPEN || kind == PMK_OPENAT || kind == PMK_OPENAT2;
}

#define O_ACCMODE 03
#define O_TRUNC 01000

static __always_inline int open_read_only(__u32 flags)
{
	return (flags & O_ACCMODE) == 0 && !(flags & (O_CREAT | O_TRUNC));
}

/*
 * Common sys_enter for path syscalls (path2 != NULL for renames). The record is built in
 * the thread's task storage; the prefix decision is taken here, but for opens it needs
 * the returned fd (to mute it, or to check the file's filesystem), so it is applied at exit.
 */
static __always_inline int path_enter(__u16 kind, int dirfd, const char *path, int dirfd2, const char *path2,
				      __u32 flags, __u32 mode, __u64 resolve)
{
	struct path_stash *ps;
	struct pm_file *f;
	__u32 magic = 0, magic2 = 0;
	int filtered;

	if (is_muted(cur_tgid()))
		return 0;
	ps = TASK_STORAGE(ts_path, 1);
	if (!ps) {
		stat_inc(ST_STASH, 1);
		return 0;
	}
	f = &ps->f;
	f->h.flags = 0;
	f->dirfd = dirfd;
	f->dirfd2 = dirfd2;
	f->flags = flags;
	f->mode = mode;
	f->resolve = resolve;
	f->path_len = read_path(f, f->path, path);
	f->path2_len = 0;
	if (path2)
		f->path2_len = read_path(f, f->path2, path2);

	filtered = prefix_filtered(f, &magic);
	if (filtered && path2) {
		/* a rename is hidden only if both ends are: moving a file into /usr/lib is news */
		struct scratch *sc = get_scratch();

		filtered = sc && prefix_filtered_copy(sc, f->path2, f->path2_len, &magic2) && !magic && !magic2;
	}
	if (filtered && magic && !is_open_kind(kind))
		filtered = 0; /* the filesystem check needs an fd: without one, report */
	if (filtered && !magic && !is_open_kind(kind))
		return 0; /* hidden unlink/rename/chmod: nothing to do at exit */
	ps->filter = !filtered ? FILTER_NONE : magic ? FILTER_MAGIC : FILTER_HIDE;
	ps->magic = magic;
	ps->kind = kind;
	return 0;
}

/* `opens`: the program is an open*'s exit. A constant, so the folding code is only compiled (and verified) into those three. */
static __always_inline int path_exit(struct trace_event_raw_sys_exit *ctx, const int opens)
{
	__u32 tgid = cur_tgid();
	struct path_stash *ps = TASK_STORAGE(ts_path, 0);
	struct pm_file *f;
	__s64 ret = ctx->ret;
	__u32 size, kind;
	int prio = PM_PRIO_HIGH;

	if (!ps || !ps->kind)
		return 0;
	kind = ps->kind;
	ps->kind = 0;
	f = &ps->f;
	if (ps->filter == FILTER_HIDE || (ps->filter == FILTER_MAGIC && ret >= 0 && fd_fs_magic(ret) == ps->magic)) {
		if (ret >= 0)
			agg_reset(tgid, ret, 1); /* reads/writes of a hidden file are hidden too */
		return 0;
	}
	if (kind == PMK_RENAME || kind == PMK_RENAMEAT || kind == PMK_RENAMEAT2)
		size = offsetof(struct pm_file, path2) + (f->path2_len & (PM_PATH_MAX - 1)) + 1;
	else
		size = FILE_HEAD + (f->path_len & (PM_PATH_MAX - 1)) + 1;
	if (size > sizeof(*f))
		size = sizeof(*f);
	f->_pad = 0;
	if (opens && is_open_kind(kind)) {
		/* reading a file is the flood-prone, low-value case; a write-open changes the file */
		prio = open_read_only(f->flags) ? PM_PRIO_LOW : PM_PRIO_HIGH;
		if (ret >= 0) {
			struct file *file = fd_file(ret);

			/* O_CREAT alone does not say whether the file was new: the kernel marks the file it created */
			if (file && (f->flags & O_CREAT) && (BPF_CORE_READ(file, f_mode) & FMODE_CREATED))
				f->h.flags |= PMF_CREATED;
			if (prio == PM_PRIO_HIGH)
				file_version_bump(file);
			else if (open_fold(tgid, ret, file, f))
				return 0;
		}
	}
	fill_hdr(&f->h, kind, size, ret);
	rb_output(f, size, prio);
	if (is_open_kind(kind) && ret >= 0)
		agg_reset(tgid, ret, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int tp_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_OPEN, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD, NULL, ctx->args[1], ctx->args[2], 0);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_OPENAT, (int)ctx->args[0], (const char *)ctx->args[1], AT_FDCWD, NULL,
			  ctx->args[2], ctx->args[3], 0);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int tp_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return path_enter(PMK_OPENAT2, (int)ctx->args[0], (const char *)ctx->args[1], AT_FDCWD, NULL,
			  how.flags, how.mode, how.resolve);
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int tp_enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_UNLINK, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD, NULL, 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int tp_enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_UNLINKAT, (int)ctx->args[0], (const char *)ctx->args[1], AT_FDCWD, NULL, ctx->args[2], 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_rename")
int tp_enter_rename(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_RENAME, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD, (const char *)ctx->args[1], 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int tp_enter_renameat(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_RENAMEAT, (int)ctx->args[0], (const char *)ctx->args[1], (int)ctx->args[2],
			  (const char *)ctx->args[3], 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int tp_enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_RENAMEAT2, (int)ctx->args[0], (const char *)ctx->args[1], (int)ctx->args[2],
			  (const char *)ctx->args[3], ctx->args[4], 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_chmod")
int tp_enter_chmod(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_CHMOD, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD, NULL, 0, ctx->args[1], 0);
}

SEC("tracepoint/syscalls/sys_enter_fchmodat")
int tp_enter_fchmodat(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_FCHMODAT, (int)ctx->args[0], (const char *)ctx->args[1], AT_FDCWD, NULL, 0, ctx->args[2], 0);
}

SEC("tracepoint/syscalls/sys_enter_fchmodat2")
int tp_enter_fchmodat2(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(PMK_FCHMODAT2, (int)ctx->args[0], (const char *)ctx->args[1], AT_FDCWD, NULL,
			  ctx->args[3], ctx->args[2], 0);
}

#define PATH_EXIT(name, opens)                                               \
	SEC("tracepoint/syscalls/sys_exit_" #name)                           \
	int tp_exit_##name(struct trace_event_raw_sys_exit *ctx) { return path_exit(ctx, opens); }
PATH_EXIT(open, 1)
PATH_EXIT(openat, 1)
PATH_EXIT(openat2, 1)
PATH_EXIT(unlink, 0)
PATH_EXIT(unlinkat, 0)
PATH_EXIT(rename, 0)
PATH_EXIT(renameat, 0)
PATH_EXIT(renameat2, 0)
PATH_EXIT(chmod, 0)
PATH_EXIT(fchmodat, 0)
PATH_EXIT(fchmodat2, 0)

/* ------------------------------------------------- read/write aggregates */

/*
 * read/write-like syscalls have no sys_enter program: at sys_exit the caller's user
 * registers still hold the arguments (the syscall return path only clobbers the return
 * register; arm64 keeps arg0 in orig_x0), so the fd is read from there. Half the
 * programs on the hottest path, and no per-call stash.
 */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_ARG(r, n) ((n) == 0 ? (r)->di : (n) == 1 ? (r)->si : (n) == 2 ? (r)->dx : (n) == 3 ? (r)->r10 : (n) == 4 ? (r)->r8 : (r)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_ARG(r, n) ((n) == 0 ? (r)->orig_x0 : (r)->regs[n])
#else
#error "provmon: syscall argument registers not defined for this architecture"
#endif

static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* Emit a PMK_SENDTO / PMK_RECVFROM record when the peer of this fd changes. */
static __always_inline void peer_record(__u16 kind, int fd, __s64 ret, struct sa_info *sa, struct agg_val *v)
{
	__u64 h = ((__u64)sa->family << 48) ^ ((__u64)sa->port << 32) ^ *(__u64 *)sa->addr ^
		  (*(__u64 *)(sa->addr + 8) * 0x9E3779B97F4A7C15ULL) ^ 1;
	struct pm_net *r;
	struct sock *sk;

	if (!v || v->peer == h)
		return;
	v->peer = h;
	r = rb_reserve(sizeof(*r), PM_PRIO_LOW);
	if (!r)
		return;
	__builtin_memset((void *)r + sizeof(r->h), 0, sizeof(*r) - sizeof(r->h));
	r->h.flags = 0;
	fill_hdr(&r->h, kind, sizeof(*r), ret);
	r->fd = fd;
	r->family = sa->family;
	r->rport = sa->port;
	__builtin_memcpy(r->raddr, sa->addr, 16);
	sk = fd_sock(fd);
	if (sk) {
		r->type = BPF_CORE_READ(sk, sk_type);
		r->protocol = BPF_CORE_READ(sk, sk_protocol);
		r->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		if (sa->family == AF_INET)
			BPF_CORE_READ_INTO(&r->laddr, sk, __sk_common.skc_rcv_saddr);
		else
			BPF_CORE_READ_INTO(&r->laddr, sk, __sk_common.skc_v6_rcv_saddr);
	}
	bpf_ringbuf_submit(r, RB_FLAGS);
}

static __always_inline int io_exit(struct trace_event_raw_sys_exit *ctx, int dir)
{
	__u32 tgid = cur_tgid();
	struct pt_regs *regs;

	if (is_muted(tgid))
		return 0;
	regs = user_regs();
	agg_add(tgid, (int)SYSCALL_ARG(regs, 0), dir, ctx->ret);
	return 0;
}

#define IO_EXIT(name, dir)                                                                         \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                 \
	int tp_exit_##name(struct trace_event_raw_sys_exit *ctx) { return io_exit(ctx, dir); }

IO_EXIT(read, DIR_RD)
IO_EXIT(pread64, DIR_RD)
IO_EXIT(readv, DIR_RD)
IO_EXIT(preadv, DIR_RD)
IO_EXIT(preadv2, DIR_RD)
IO_EXIT(recvmsg, DIR_RD)
IO_EXIT(write, DIR_WR)
IO_EXIT(pwrite64, DIR_WR)
IO_EXIT(writev, DIR_WR)
IO_EXIT(pwritev, DIR_WR)
IO_EXIT(pwritev2, DIR_WR)
IO_EXIT(sendmsg, DIR_WR)

/*
 * In-kernel copies between two fds (cat and cp use copy_file_range, servers sendfile):
 * the bytes count as a read on the source and a write on the destination.
 */
static __always_inline int copy_exit(struct trace_event_raw_sys_exit *ctx, int in_arg, int out_arg)
{
	__u32 tgid = cur_tgid();
	struct pt_regs *regs;

	if (is_muted(tgid))
		return 0;
	regs = user_regs();
	agg_add(tgid, (int)SYSCALL_ARG(regs, in_arg), DIR_RD, ctx->ret);
	agg_add(tgid, (int)SYSCALL_ARG(regs, out_arg), DIR_WR, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_copy_file_range")
int tp_exit_copy_file_range(struct trace_event_raw_sys_exit *ctx) { return copy_exit(ctx, 0, 2); }
SEC("tracepoint/syscalls/sys_exit_splice")
int tp_exit_splice(struct trace_event_raw_sys_exit *ctx) { return copy_exit(ctx, 0, 2); }
SEC("tracepoint/syscalls/sys_exit_sendfile64")
int tp_exit_sendfile64(struct trace_event_raw_sys_exit *ctx) { return copy_exit(ctx, 1, 0); }

/*
 * sendto/recvfrom with an address: the peer is checked against the allowlist (an
 * allowlisted peer's datagrams are not counted) and reported when it changes. recvfrom's
 * source is only known at exit; sendto's destination is read at exit as well (it is the
 * caller's buffer, unchanged by the kernel).
 */
static __always_inline int addr_io_exit(struct trace_event_raw_sys_exit *ctx, int dir, __u16 kind)
{
	__u32 tgid = cur_tgid();
	struct pt_regs *regs;
	__s64 ret = ctx->ret;
	__u64 sa_ptr, len_arg;
	__u8 sa[28] = {};
	__u32 alen = 0;
	struct sa_info si = {};
	struct agg_val *v;
	int fd;

	if (is_muted(tgid))
		return 0;
	regs = user_regs();
	fd = (int)SYSCALL_ARG(regs, 0);
	sa_ptr = SYSCALL_ARG(regs, 4);
	len_arg = SYSCALL_ARG(regs, 5);
	if (sa_ptr && len_arg && (ret >= 0 || dir == DIR_WR)) {
		if (dir == DIR_RD)
			bpf_probe_read_user(&alen, sizeof(alen), (void *)len_arg); /* socklen_t *addrlen */
		else
			alen = len_arg;
		if (alen > sizeof(sa))
			alen = sizeof(sa);
		if (alen >= 2 && !bpf_probe_read_user(sa, alen & 31, (void *)sa_ptr) && !parse_sockaddr(sa, alen, &si, 0)) {
			if (net_allowed(si.family, si.port, si.addr))
				return 0;
			v = agg_add(tgid, fd, dir, ret);
			peer_record(kind, fd, ret, &si, v);
			return 0;
		}
	}
	agg_add(tgid, fd, dir, ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int tp_exit_recvfrom(struct trace_event_raw_sys_exit *ctx) { return addr_io_exit(ctx, DIR_RD, PMK_RECVFROM); }
SEC("tracepoint/syscalls/sys_exit_sendto")
int tp_exit_sendto(struct trace_event_raw_sys_exit *ctx) { return addr_io_exit(ctx, DIR_WR, PMK_SENDTO); }

/* close: take the aggregate at entry (before another thread can get the fd number back) */
SEC("tracepoint/syscalls/sys_enter_close")
int tp_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = cur_tgid();
	int fd = (int)ctx->args[0];
	struct agg_key k = { .tgid = tgid, .fd = fd };
	struct stash s = { .kind = PMK_CLOSE, .fd = fd };
	struct agg_val *v;

	if (is_muted(tgid))
		return 0;
	v = bpf_map_lookup_elem(&agg, &k);
	if (v) {
		/* a folded open's close is folded too: its I/O joins the fold entry */
		s.muted = v->muted || agg_to_fold(tgid, v, &v->io);
		__builtin_memcpy(&s.io, &v->io, sizeof(s.io));
		agg_clear(v, 0); /* the fd number is free again: its next file starts clean */
	}
	stash_put(&s);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_close")
int tp_exit_close(struct trace_event_raw_sys_exit *ctx)
{
	struct stash *s = stash_get();

	if (!s)
		return 0;
	/* EBADF closes carry nothing (daemons close every fd up to 1024) */
	if (s->kind == PMK_CLOSE && !s->muted && ctx->ret != -EBADF)
		emit_io(PMK_CLOSE, s->fd, PM_IO_CLOSE, &s->io, ctx->ret);
	s->kind = 0;
	return 0;
}

/* dup family: a new fd number pointing at an existing file */
static __always_inline int dup_enter(__u32 via, int oldfd, int newfd, __u32 flags)
{
	struct stash s = { .kind = PMK_DUP, .via = via, .fd = oldfd, .aux = (__u32)newfd, .flags = flags };

	if (is_muted(cur_tgid()))
		return 0;
	stash_put(&s);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup")
int tp_enter_dup(struct trace_event_raw_sys_enter *ctx) { return dup_enter(PM_DUP_DUP, ctx->args[0], -1, 0); }
SEC("tracepoint/syscalls/sys_enter_dup2")
int tp_enter_dup2(struct trace_event_raw_sys_enter *ctx) { return dup_enter(PM_DUP_DUP2, ctx->args[0], ctx->args[1], 0); }
SEC("tracepoint/syscalls/sys_enter_dup3")
int tp_enter_dup3(struct trace_event_raw_sys_enter *ctx) { return dup_enter(PM_DUP_DUP3, ctx->args[0], ctx->args[1], ctx->args[2]); }

SEC("tracepoint/syscalls/sys_enter_fcntl")
int tp_enter_fcntl(struct trace_event_raw_sys_enter *ctx)
{
	__u32 cmd = ctx->args[1];

	if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
		return 0;
	return dup_enter(PM_DUP_FCNTL, ctx->args[0], ctx->args[2], cmd == F_DUPFD_CLOEXEC ? O_CLOEXEC : 0);
}

static __always_inline int dup_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = cur_tgid();
	struct stash *s = stash_get();
	__s64 ret = ctx->ret;
	struct pm_dup *r;
	int muted;

	if (!s)
		return 0;
	if (s->kind != PMK_DUP)
		goto out;
	muted = fd_muted(tgid, s->fd);
	if (ret >= 0 && ret != s->fd)
		agg_reset(tgid, ret, muted);
	if (muted || ret == -EBADF)
		goto out;
	r = rb_reserve(sizeof(*r), PM_PRIO_HIGH);
	if (r) {
		r->h.flags = 0;
		fill_hdr(&r->h, PMK_DUP, sizeof(*r), ret);
		r->oldfd = s->fd;
		r->newfd = (int)s->aux;
		r->flags = s->flags;
		r->via = s->via;
		bpf_ringbuf_submit(r, RB_FLAGS);
	}
out:
	s->kind = 0;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_dup")
int tp_exit_dup(struct trace_event_raw_sys_exit *ctx) { return dup_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_dup2")
int tp_exit_dup2(struct trace_event_raw_sys_exit *ctx) { return dup_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_dup3")
int tp_exit_dup3(struct trace_event_raw_sys_exit *ctx) { return dup_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_fcntl")
int tp_exit_fcntl(struct trace_event_raw_sys_exit *ctx) { return dup_exit(ctx); }

/* ------------------------------------------------------------ setid */

static __always_inline int setid_enter(__u16 kind, __u32 a, __u32 b, __u32 c)
{
	struct stash s = { .kind = kind, .id = { a, b, c } };

	if (is_muted(cur_tgid()))
		return 0;
	stash_put(&s);
	return 0;
}

static __always_inline int setid_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct stash *s = stash_get();
	struct pm_setid *r;

	if (!s)
		return 0;
	if (s->kind >= PMK_SETUID && s->kind <= PMK_SETRESGID) {
		r = rb_reserve(sizeof(*r), PM_PRIO_CRIT);
		if (r) {
			r->h.flags = 0;
			fill_hdr(&r->h, s->kind, sizeof(*r), ctx->ret);
			r->id[0] = s->id[0];
			r->id[1] = s->id[1];
			r->id[2] = s->id[2];
			r->_pad = 0;
			bpf_ringbuf_submit(r, RB_FLAGS);
		}
	}
	s->kind = 0;
	return 0;
}

#define SETID(name, kind, a, b, c)                                                        \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                       \
	int tp_enter_##name(struct trace_event_raw_sys_enter *ctx) { return setid_enter(kind, a, b, c); } \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                        \
	int tp_exit_##name(struct trace_event_raw_sys_exit *ctx) { return setid_exit(ctx); }

SETID(setuid, PMK_SETUID, ctx->args[0], -1, -1)
SETID(setgid, PMK_SETGID, ctx->args[0], -1, -1)
SETID(setreuid, PMK_SETREUID, ctx->args[0], ctx->args[1], -1)
SETID(setregid, PMK_SETREGID, ctx->args[0], ctx->args[1], -1)
SETID(setresuid, PMK_SETRESUID, ctx->args[0], ctx->args[1], ctx->args[2])
SETID(setresgid, PMK_SETRESGID, ctx->args[0], ctx->args[1], ctx->args[2])

/* -------------------------------------------------------------- sockets */

static __always_inline int net_enter(__u16 kind, int fd, const void *sa, __u32 alen, __u64 aux)
{
	struct stash s = { .kind = kind, .fd = fd, .aux = aux };

	if (is_muted(cur_tgid()))
		return 0;
	if (sa && alen >= 2) {
		if (alen > sizeof(s.addr))
			alen = sizeof(s.addr);
		s.addr_len = alen;
		if (bpf_probe_read_user(s.addr, alen & 127, sa))
			s.addr_len = 0;
	}
	stash_put(&s);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_socket")
int tp_enter_socket(struct trace_event_raw_sys_enter *ctx)
{
	/* domain, type, protocol travel in fd/aux/flags */
	struct stash s = { .kind = PMK_SOCKET, .fd = -1, .id = { ctx->args[0], ctx->args[1], ctx->args[2] } };

	if (is_muted(cur_tgid()))
		return 0;
	stash_put(&s);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tp_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	return net_enter(PMK_CONNECT, ctx->args[0], (void *)ctx->args[1], ctx->args[2], 0);
}

SEC("tracepoint/syscalls/sys_enter_bind")
int tp_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	return net_enter(PMK_BIND, ctx->args[0], (void *)ctx->args[1], ctx->args[2], 0);
}

SEC("tracepoint/syscalls/sys_enter_listen")
int tp_enter_listen(struct trace_event_raw_sys_enter *ctx)
{
	return net_enter(PMK_LISTEN, ctx->args[0], NULL, 0, ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_accept")
int tp_enter_accept(struct trace_event_raw_sys_enter *ctx)
{
	return net_enter(PMK_ACCEPT, ctx->args[0], NULL, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int tp_enter_accept4(struct trace_event_raw_sys_enter *ctx)
{
	return net_enter(PMK_ACCEPT4, ctx->args[0], NULL, 0, ctx->args[3]);
}

/* local (and, when connected, remote) endpoint from the kernel socket */
static __always_inline void fill_from_sock(struct pm_net *r, struct sock *sk, int remote)
{
	r->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->type = BPF_CORE_READ(sk, sk_type);
	r->protocol = BPF_CORE_READ(sk, sk_protocol);
	r->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (r->family == AF_INET) {
		BPF_CORE_READ_INTO(&r->laddr, sk, __sk_common.skc_rcv_saddr);
		if (remote)
			BPF_CORE_READ_INTO(&r->raddr, sk, __sk_common.skc_daddr);
	} else if (r->family == AF_INET6) {
		BPF_CORE_READ_INTO(&r->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		if (remote)
			BPF_CORE_READ_INTO(&r->raddr, sk, __sk_common.skc_v6_daddr);
	}
	if (remote)
		r->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline int net_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = cur_tgid();
	struct stash *s = stash_get();
	__s64 ret = ctx->ret;
	struct sa_info si = {};
	struct pm_net *r;
	struct sock *sk;
	__u16 kind;
	int have_sa;

	if (!s)
		return 0;
	kind = s->kind;
	if (kind < PMK_SOCKET || kind > PMK_ACCEPT4)
		goto out;
	have_sa = s->addr_len >= 2 && !parse_sockaddr(s->addr, s->addr_len, &si, 0);

	if (kind == PMK_CONNECT && have_sa && net_allowed(si.family, si.port, si.addr)) {
		/* allowlisted peer: no record, and the socket's I/O is not reported either */
		agg_reset(tgid, s->fd, 1);
		goto out;
	}
	if ((kind == PMK_ACCEPT || kind == PMK_ACCEPT4) && ret >= 0) {
		sk = fd_sock(ret);
		if (sk) {
			__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
			__u8 la[16] = {}, ra[16] = {};
			__u16 lp = BPF_CORE_READ(sk, __sk_common.skc_num);
			__u16 rp = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));

			if (fam == AF_INET) {
				BPF_CORE_READ_INTO(&la, sk, __sk_common.skc_rcv_saddr);
				BPF_CORE_READ_INTO(&ra, sk, __sk_common.skc_daddr);
			} else if (fam == AF_INET6) {
				BPF_CORE_READ_INTO(&la, sk, __sk_common.skc_v6_rcv_saddr);
				BPF_CORE_READ_INTO(&ra, sk, __sk_common.skc_v6_daddr);
			}
			/* accept: either end may be the allowlisted service */
			if (net_allowed(fam, rp, ra) || net_allowed(fam, lp, la)) {
				agg_reset(tgid, ret, 1);
				goto out;
			}
		}
	}

	r = rb_reserve(sizeof(*r), kind == PMK_SOCKET ? PM_PRIO_LOW : PM_PRIO_NET);
	if (!r)
		goto out;
	__builtin_memset((void *)r + sizeof(r->h), 0, sizeof(*r) - sizeof(r->h));
	r->h.flags = 0;
	fill_hdr(&r->h, kind, sizeof(*r), ret);
	r->fd = s->fd;
	switch (kind) {
	case PMK_SOCKET:
		r->family = s->id[0];
		r->type = s->id[1] & SOCK_TYPE_MASK;
		r->protocol = s->id[2];
		r->arg = s->id[1];
		break;
	case PMK_CONNECT:
	case PMK_BIND:
		sk = fd_sock(s->fd);
		if (sk)
			fill_from_sock(r, sk, 0);
		if (have_sa) {
			r->family = si.family;
			if (kind == PMK_CONNECT) {
				r->rport = si.port;
				__builtin_memcpy(r->raddr, si.addr, 16);
			} else if (!sk || ret != 0) {
				r->lport = si.port;
				__builtin_memcpy(r->laddr, si.addr, 16);
			}
		} else if (s->addr_len >= 2 && *(__u16 *)s->addr == AF_UNIX) {
			__u32 n = s->addr_len - 2;

			r->family = AF_UNIX;
			if (n > PM_UNIX_MAX)
				n = PM_UNIX_MAX;
			r->unix_len = n;
			bpf_probe_read_kernel(r->unix_path, n & 127, s->addr + 2);
		} else if (s->addr_len >= 2) {
			r->family = *(__u16 *)s->addr;
		}
		break;
	case PMK_LISTEN:
		r->arg = s->aux;
		sk = fd_sock(s->fd);
		if (sk)
			fill_from_sock(r, sk, 0);
		break;
	case PMK_ACCEPT:
	case PMK_ACCEPT4:
		r->arg = s->aux;
		sk = ret >= 0 ? fd_sock(ret) : fd_sock(s->fd);
		if (sk)
			fill_from_sock(r, sk, ret >= 0);
		break;
	}
	bpf_ringbuf_submit(r, RB_FLAGS);
	if (ret >= 0 && (kind == PMK_SOCKET || kind == PMK_ACCEPT || kind == PMK_ACCEPT4))
		agg_reset(tgid, ret, 0);
out:
	s->kind = 0;
	return 0;
}

#define NET_EXIT(name)                                                       \
	SEC("tracepoint/syscalls/sys_exit_" #name)                           \
	int tp_exit_##name(struct trace_event_raw_sys_exit *ctx) { return net_exit(ctx); }
NET_EXIT(socket)
NET_EXIT(connect)
NET_EXIT(bind)
NET_EXIT(listen)
NET_EXIT(accept)
NET_EXIT(accept4)

/* ------------------------------------------------------------------ flush */

/*
 * User space flushes on its interval: every (tgid, fd) aggregate with I/O since the last
 * flush becomes a PMK_IO record ('interval'), then every fold entry with a pending count a
 * PMK_FOLD record. Counters are moved out with atomic exchanges, so calls racing with the
 * flush land in this flush or the next one, never nowhere; records go through the same
 * ring, after everything emitted before them.
 *
 * Two ways to run it, chosen at load (docs/ebpf.md "Optional programs"):
 *   - iterators (iter/bpf_map_elem over agg, then over fold): one read() each;
 *   - where the kernel refuses iterator programs (EPERM on some hosts), a tracepoint on
 *     getpgid that walks both maps with bpf_for_each_map_elem when the sensor itself calls
 *     getpgid(PM_FLUSH_MAGIC). Same body, same ordering, no new kernel feature.
 */
static __always_inline void flush_agg_entry(struct agg_key *kp, struct agg_val *v)
{
	struct agg_key k;
	struct pm_io_counts c;
	struct pm_io *r;

	if (!kp || !v || v->muted)
		return;
	k = *kp;
	if (is_muted(k.tgid)) {
		/* counted before the process was muted (noise rule added later): drop, it no longer grows */
		bpf_map_delete_elem(&agg, &k);
		return;
	}
	if (!v->io.rd_calls && !v->io.wr_calls && !v->io.errors)
		return;
	c.rd_calls = __sync_lock_test_and_set(&v->io.rd_calls, 0);
	c.rd_bytes = __sync_lock_test_and_set(&v->io.rd_bytes, 0);
	c.wr_calls = __sync_lock_test_and_set(&v->io.wr_calls, 0);
	c.wr_bytes = __sync_lock_test_and_set(&v->io.wr_bytes, 0);
	c.errors = __sync_lock_test_and_set(&v->io.errors, 0);
	c.rd_first_ns = __sync_lock_test_and_set(&v->io.rd_first_ns, 0);
	c.wr_first_ns = __sync_lock_test_and_set(&v->io.wr_first_ns, 0);
	c.rd_last_ns = v->io.rd_last_ns;
	c.wr_last_ns = v->io.wr_last_ns;
	c._pad = 0;
	if (agg_to_fold(k.tgid, v, &c))
		return;

	r = rb_reserve(sizeof(*r), PM_PRIO_LOW);
	if (!r)
		return;
	__builtin_memset(&r->h, 0, sizeof(r->h));
	r->h.kind = PMK_IO;
	r->h.flags = PMF_NO_TASK;
	r->h.size = sizeof(*r);
	r->h.ts_ns = bpf_ktime_get_boot_ns();
	r->h.pid = k.tgid;
	r->h.tgid = k.tgid;
	r->fd = k.fd;
	r->reason = PM_IO_INTERVAL;
	__builtin_memcpy(&r->io, &c, sizeof(c));
	bpf_ringbuf_submit(r, RB_FLAGS);
}

static __always_inline void flush_fold_entry(struct fold_key *kp, struct fold_val *v)
{
	struct fold_key k;

	if (!kp || !v || !v->count)
		return;
	k = *kp;
	if (is_muted(k.tgid))
		return;
	fold_emit(&k, v, 0);
}

SEC("?iter/bpf_map_elem")
int flush_io(struct bpf_iter__bpf_map_elem *ctx)
{
	flush_agg_entry(ctx->key, ctx->value);
	return 0;
}

SEC("?iter/bpf_map_elem")
int flush_fold(struct bpf_iter__bpf_map_elem *ctx)
{
	flush_fold_entry(ctx->key, ctx->value);
	return 0;
}

static long flush_agg_cb(struct bpf_map *map, struct agg_key *key, struct agg_val *v, void *c)
{
	flush_agg_entry(key, v);
	return 0;
}

static long flush_fold_cb(struct bpf_map *map, struct fold_key *key, struct fold_val *v, void *c)
{
	flush_fold_entry(key, v);
	return 0;
}

SEC("?tracepoint/syscalls/sys_enter_getpgid")
int flush_trigger(struct trace_event_raw_sys_enter *ctx)
{
	__u32 zero = 0;
	struct pm_cfg *c = bpf_map_lookup_elem(&cfg, &zero);

	if (!c || !c->flush_tgid || ctx->args[0] != PM_FLUSH_MAGIC || cur_tgid() != c->flush_tgid)
		return 0;
	bpf_for_each_map_elem(&agg, flush_agg_cb, NULL, 0);
	bpf_for_each_map_elem(&fold, flush_fold_cb, NULL, 0);
	return 0;
}

/* ------------------------------------------------ pipes and unix sockets */

/*
 * A pipe or a unix-socket connection gets an identity (an inode both ends share or can name), so the graph can
 * join the writer on one end with the reader on the other (`curl ... | sh`, a local service over a socket).
 * The I/O itself is the ordinary per-fd aggregate; these programs only add PMK_CHANNEL records. They keep their
 * own in-flight arguments (not the shared stash), so they stay independent of the other programs on the same
 * tracepoints.
 */
struct chan_arg {
	__u64 uptr;         /* int[2] in user memory (pipe, pipe2, socketpair) */
	__s32 fd;           /* connect: the socket */
	__u32 via;          /* enum pm_chan_via */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);             /* pid_tgid: one syscall in flight per thread */
	__type(value, struct chan_arg);
} chan_args SEC(".maps");

static __always_inline __u64 fd_ino(int fd)
{
	struct file *f = fd_file(fd);

	return f ? BPF_CORE_READ(f, f_inode, i_ino) : 0;
}

static __always_inline int chan_enter(__u32 via, __u64 uptr, int fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct chan_arg a = { .uptr = uptr, .fd = fd, .via = via };

	if (is_muted(id >> 32))
		return 0;
	bpf_map_update_elem(&chan_args, &id, &a, BPF_ANY);
	return 0;
}


static __always_inline int chan_exit(__s64 ret, __u32 via)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct chan_arg *a = bpf_map_lookup_elem(&chan_args, &id);
	int fds[2] = { -1, -1 };
	__u64 ino[2] = { 0, 0 };
	__u64 sks[2] = { 0, 0 };
	struct pm_chan *r;
	struct sock *sk;

	if (!a)
		return 0;
	if (a->via != via)
		goto out;
	switch (via) {
	case PM_CHAN_PIPE:
	case PM_CHAN_SOCKETPAIR:
		if (ret != 0 || bpf_probe_read_user(fds, sizeof(fds), (void *)a->uptr))
			goto out;
		ino[0] = fd_ino(fds[0]);
		ino[1] = fd_ino(fds[1]);
		if (via == PM_CHAN_SOCKETPAIR) {
			sks[0] = (__u64)fd_sock(fds[0]);
			sks[1] = (__u64)fd_sock(fds[1]);
		}
		break;
	case PM_CHAN_UNIX_CONNECT:
	case PM_CHAN_UNIX_ACCEPT:
		fds[0] = via == PM_CHAN_UNIX_CONNECT ? a->fd : (int)ret;
		if (ret < 0 || (via == PM_CHAN_UNIX_CONNECT && ret != 0))
			goto out;
		sk = fd_sock(fds[0]);
		if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
			goto out;
		ino[0] = fd_ino(fds[0]);
		sks[0] = (__u64)sk;
		sks[1] = (__u64)BPF_CORE_READ((struct unix_sock *)sk, peer);
		break;
	default:
		goto out;
	}
	/* without it a pipe's or unix connection's I/O cannot be joined end to end: the class of its syscall */
	r = rb_reserve(sizeof(*r), via >= PM_CHAN_UNIX_CONNECT ? PM_PRIO_NET : PM_PRIO_HIGH);
	if (!r)
		goto out;
	r->h.flags = 0;
	fill_hdr(&r->h, PMK_CHANNEL, sizeof(*r), ret);
	r->fd[0] = fds[0];
	r->fd[1] = fds[1];
	r->ino[0] = ino[0];
	r->ino[1] = ino[1];
	r->sk[0] = sks[0];
	r->sk[1] = sks[1];
	r->via = via;
	r->_pad = 0;
	bpf_ringbuf_submit(r, RB_FLAGS);
out:
	bpf_map_delete_elem(&chan_args, &id);
	return 0;
}

/* one enter/exit pair per syscall; `uptr` and `fd` are expressions over the enter tracepoint's ctx->args */
#define CHAN_TP(sys, via, uptr, fd)                                               \
	SEC("tracepoint/syscalls/sys_enter_" #sys)                                \
	int tp_chan_enter_##sys(struct trace_event_raw_sys_enter *ctx)            \
	{ return chan_enter(via, uptr, fd); }                                      \
	SEC("tracepoint/syscalls/sys_exit_" #sys)                                 \
	int tp_chan_exit_##sys(struct trace_event_raw_sys_exit *ctx)              \
	{ return chan_exit(ctx->ret, via); }
CHAN_TP(pipe, PM_CHAN_PIPE, ctx->args[0], -1)
CHAN_TP(pipe2, PM_CHAN_PIPE, ctx->args[0], -1)
CHAN_TP(socketpair, PM_CHAN_SOCKETPAIR, ctx->args[3], -1)
CHAN_TP(connect, PM_CHAN_UNIX_CONNECT, 0, ctx->args[0])
CHAN_TP(accept, PM_CHAN_UNIX_ACCEPT, 0, ctx->args[0])
CHAN_TP(accept4, PM_CHAN_UNIX_ACCEPT, 0, ctx->args[0])

/* Keep every record type in the object's BTF: records.kernel.test.ts checks the decoder's offsets against it. */
struct pm_fork *_btf_fork __attribute__((unused));
struct pm_exit *_btf_exit __attribute__((unused));
struct pm_io *_btf_io __attribute__((unused));
struct pm_fold *_btf_fold __attribute__((unused));
struct pm_cfg *_btf_cfg __attribute__((unused));
struct pm_dup *_btf_dup __attribute__((unused));
struct pm_setid *_btf_setid __attribute__((unused));
struct pm_net *_btf_net __attribute__((unused));
struct pm_chan *_btf_chan __attribute__((unused));
