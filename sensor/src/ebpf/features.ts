/**
 * Optional kernel features: programs some kernels refuse (EPERM for `iter/` and `fentry/` on
 * some hosts that accept tracepoints), each with a fallback built only on tracepoints. The
 * loader probes each at start with a throw-away load of just that program, uses it when the
 * kernel accepts it, and otherwise (or when the configuration forces it) enables the
 * fallback. Nothing optional can fail the whole object.
 */

export interface OptionalFeature {
  /** name used in logs, `provmon doctor` and `ebpf_config.force_fallback` */
  name: string;
  /** what it does, for humans */
  purpose: string;
  /** programs (by function name) the feature needs; their sections start with '?' (not loaded unless chosen) */
  programs: readonly string[];
  fallback: { name: string; programs: readonly string[] };
}

export const OPTIONAL_FEATURES = [
  {
    name: 'iter',
    purpose: 'periodic flush of read/write aggregates and fold counts (BPF map iterators)',
    programs: ['flush_io', 'flush_fold'],
    fallback: { name: 'tracepoint-flush', programs: ['flush_trigger'] },
  },
] as const satisfies readonly OptionalFeature[];

export type FeatureName = (typeof OPTIONAL_FEATURES)[number]['name'];
export const FEATURE_NAMES: readonly string[] = OPTIONAL_FEATURES.map((f) => f.name);

export interface FeatureChoice {
  feature: string;
  /** what runs: the feature itself, or its fallback's name */
  using: string;
  /** why the fallback was taken: 'forced by configuration', or the kernel's refusal */
  fallbackReason?: string;
}
