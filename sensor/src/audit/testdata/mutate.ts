/**
 * Deterministically mutated audit lines (cuts, inserted separators and quotes, joined halves) for the fuzz tests and
 * the document snapshot: a seed always gives the same lines.
 */
import { debianCurl, rhel7Files, rhelEnriched, splitExecve, syslogKernel } from './samples.ts';

/** A small deterministic PRNG (xorshift32): failures reproduce from the seed printed in the test name. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const corpus = [...debianCurl(), ...rhelEnriched(), ...rhel7Files(), ...syslogKernel(), ...splitExecve()];
const alphabet = ' =:"\'()\x1d\n\tabcdefxyzAF0123456789-.[]/';

function mutate(line: string, r: () => number): string {
  let s = line;
  const edits = 1 + Math.floor(r() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (s.length + 1));
    const op = r();
    if (op < 0.3) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
    else if (op < 0.6) s = s.slice(0, at) + alphabet[Math.floor(r() * alphabet.length)] + s.slice(at);
    else if (op < 0.8) s = s.slice(0, at);
    else s = s.slice(0, at) + s.slice(Math.floor(r() * s.length));
  }
  return s;
}

/** `count` mutated lines of the sample corpus from one seed; failures reproduce from the seed. */
export function mutatedLines(seed: number, count: number): string[] {
  const r = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(mutate(corpus[Math.floor(r() * corpus.length)]!, r));
  return lines;
}
