/**
 * Passive DNS: which names recently resolved to an address, learned from the answers the sensor
 * sees. An entry lives for the record's TTL, capped at `maxTtlSec` (config `dns_cache_ttl`) and
 * floored at 1 s (a TTL of 0 still told us which name the client was about to use). The clock is
 * the packet time, so offline captures resolve exactly as they did live. Size is bounded: the
 * least recently refreshed address goes first.
 */

interface NameEntry {
  name: string;
  expires: number;
}

export interface PassiveDnsCacheOptions {
  /** dns_cache_ttl: longest time an answer is trusted, whatever its TTL (seed default 300 s) */
  maxTtlSec?: number;
  maxEntries?: number;
  /** names remembered per address (CDNs put many names on one address) */
  maxNamesPerAddress?: number;
}

export class PassiveDnsCacheStats {
  inserts = 0;
  hits = 0;
  misses = 0;
  /** addresses dropped because the cache was full */
  evicted = 0;
}

export class PassiveDnsCache {
  readonly stats = new PassiveDnsCacheStats();
  private readonly byAddress = new Map<string, NameEntry[]>();
  private readonly maxTtl: number;
  private readonly maxEntries: number;
  private readonly maxNames: number;

  constructor(o: PassiveDnsCacheOptions = {}) {
    this.maxTtl = o.maxTtlSec ?? 300;
    this.maxEntries = o.maxEntries ?? 100_000;
    this.maxNames = o.maxNamesPerAddress ?? 4;
  }

  get size(): number {
    return this.byAddress.size;
  }

  /** Record that `name` resolved to `address` at `atSec` with `ttlSec`. */
  add(address: string, name: string, ttlSec: number, atSec: number): void {
    const expires = atSec + Math.min(Math.max(ttlSec, 1), this.maxTtl);
    let names = this.byAddress.get(address);
    if (names === undefined) {
      names = [];
      if (this.byAddress.size >= this.maxEntries) {
        const oldest = this.byAddress.keys().next().value;
        if (oldest !== undefined) {
          this.byAddress.delete(oldest);
          this.stats.evicted++;
        }
      }
    } else {
      // re-insert so Map order stays "least recently refreshed first"
      this.byAddress.delete(address);
      const i = names.findIndex((e) => e.name === name);
      if (i >= 0) names.splice(i, 1);
    }
    names.unshift({ name, expires });
    if (names.length > this.maxNames) names.length = this.maxNames;
    this.byAddress.set(address, names);
    this.stats.inserts++;
  }

  /** Names valid for `address` at `atSec`, most recent first. */
  names(address: string, atSec: number): string[] {
    const names = this.byAddress.get(address);
    if (names === undefined) return [];
    const live = names.filter((e) => e.expires >= atSec);
    if (live.length === 0) this.byAddress.delete(address);
    else if (live.length !== names.length) this.byAddress.set(address, live);
    return live.map((e) => e.name);
  }

  /** The most recent name for `address` at `atSec` (the flow hot path: no arrays made). */
  lookup(address: string, atSec: number): string | undefined {
    const names = this.byAddress.get(address);
    if (names !== undefined) {
      for (const e of names) {
        if (e.expires >= atSec) {
          this.stats.hits++;
          return e.name;
        }
      }
      this.byAddress.delete(address); // every name expired: free the slot now
    }
    this.stats.misses++;
    return undefined;
  }
}
