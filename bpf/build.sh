#!/usr/bin/env bash
# Build the provmon BPF object. Runs at install time (scripts/ensure.sh, the package build), never when the
# sensor starts: a production host needs no compiler.
#   bpf/vmlinux.h                 kernel types for CO-RE, committed (x86-64); libbpf relocates every field access
#                                 against the running kernel's BTF at load, so one header serves every kernel.
#                                 REGEN_VMLINUX=1 regenerates it from this machine's /sys/kernel/btf/vmlinux.
#   bpf/build/provmon.bpf.o       clang -O2 -g -target bpf
#   bpf/build/provmon.bpf.o.sources   sha256 of every input: the loader refuses an object older than its sources
# Idempotent: does nothing when the recorded inputs are unchanged. FORCE=1 rebuilds.
set -euo pipefail
cd "$(dirname "$0")"
out=build
mkdir -p "$out"

if [[ ${REGEN_VMLINUX:-0} == 1 ]]; then
  btf=/sys/kernel/btf/vmlinux
  [[ -r $btf ]] || { echo "bpf/build.sh: $btf is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF=y is required)" >&2; exit 1; }
  command -v bpftool >/dev/null || { echo "bpf/build.sh: bpftool not found (Debian: apt-get install -y bpftool)" >&2; exit 1; }
  bpftool btf dump file "$btf" format c > vmlinux.h.tmp
  mv vmlinux.h.tmp vmlinux.h
fi
for tool in clang sha256sum; do
  command -v "$tool" >/dev/null || { echo "bpf/build.sh: $tool not found (Debian: apt-get install -y clang llvm libbpf-dev)" >&2; exit 1; }
done
[[ -r /usr/include/bpf/bpf_helpers.h ]] || { echo "bpf/build.sh: libbpf headers missing (apt-get install -y libbpf-dev)" >&2; exit 1; }

arch=$(uname -m)
case $arch in
  x86_64) target_arch=x86 ;;
  aarch64) target_arch=arm64 ;;
  *) target_arch=$arch ;;
esac

for src in *.bpf.c; do
  obj=$out/${src%.c}.o
  # the inputs, relative to bpf/ (the loader re-hashes them to detect a stale object)
  inputs=$(sha256sum "$src" provmon.h vmlinux.h build.sh)
  if [[ ${FORCE:-0} != 1 && -s $obj && -f $obj.sources && "$(cat "$obj.sources")" == "$inputs" ]]; then
    continue
  fi
  # -mcpu=v3: atomic xchg/fetch-add (kernel >= 5.12) and 32-bit jumps.
  clang -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_$target_arch \
    -I. -Wall -Wno-unused-function -Wno-address-of-packed-member \
    -c "$src" -o "$obj.tmp"
  mv "$obj.tmp" "$obj"
  printf '%s\n' "$inputs" > "$obj.sources"
  echo "built bpf/$obj"
done
