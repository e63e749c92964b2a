// SPDX-License-Identifier: GPL-2.0
/*
 * The real provmon programs plus one the verifier must reject (it dereferences a scalar
 * read from user memory), for the loader's error-reporting test.
 */
#include "../../../../bpf/provmon.bpf.c"

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_rejected_on_purpose(struct trace_event_raw_sys_enter *ctx)
{
	__u64 *p = (__u64 *)ctx->args[0];

	return *p == 42; /* a user pointer dereferenced directly: the verifier refuses */
}
