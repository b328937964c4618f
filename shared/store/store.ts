/**
 * The byte-bounded LRU that one shard holds, with per-key TTL
 * (`npm:lru-cache`).
 *
 * `shared/store/` is what a shard keeps in memory: this store, and the
 * packed form of its values (`packed_value.ts`). It knows nothing of
 * threads or the network: a worker and a remote shard process hold the same
 * store.
 *
 * @module
 */
import { LRUCache } from "lru-cache";
import { ResourceExhaustedError } from "../wire/errors.ts";
import { utf8Length, valueBytes } from "../wire/limits.ts";
import {
  packedVersion,
  packValue,
  TypeUrlTable,
  unpackValue,
} from "./packed_value.ts";
import type { ShardWrite, StoredValue } from "../wire/shard.ts";
import type { ShardCounters } from "../wire/messages.ts";

/** Options for {@linkcode ShardStore}. */
export interface ShardStoreOptions {
  /** The byte budget: keys, values and type URLs. */
  maxBytes: number;
  /**
   * The clock, in milliseconds; tests pass a fake one to expire keys
   * without sleeping.
   * @default performance.now
   */
  now?: () => number;
}

/**
 * One shard's entries: least recently used ones are evicted to keep the
 * charged bytes (UTF-8 key + type URL + value bytes) within `maxBytes`.
 *
 * @example
 * ```ts
 * const store = new ShardStore({ maxBytes: 1024 });
 * store.set({ key: "1:ak", value: { typeUrl: "t", value: new Uint8Array([1]) }, ttlMs: 0 });
 * store.get("1:ak"); // { typeUrl: "t", value: Uint8Array [1] }
 * ```
 */
export class ShardStore {
  /** Values are held packed (see `packed_value.ts`): far smaller than objects. */
  readonly #cache: LRUCache<string, string>;
  readonly #types = new TypeUrlTable();
  readonly #capacity: number;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;
  #holdsTtl = false;

  /** @param options The byte budget and clock. */
  constructor(options: ShardStoreOptions) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1) {
      throw new RangeError(
        `Cannot create store: maxBytes must be a positive integer: received ${options.maxBytes}`,
      );
    }
    this.#capacity = options.maxBytes;
    const now = options.now ?? (() => performance.now());
    this.#cache = new LRUCache<string, string>({
      maxSize: options.maxBytes,
      // lru-cache takes a start time of 0 to mean "no TTL": never give it 0.
      perf: { now: () => now() + 1 },
      ttlResolution: 0,
      dispose: (_value, _key, reason) => {
        if (reason === "evict") this.#evictions++;
        else if (reason === "expire") this.#expirations++;
      },
    });
  }

  /** Reads a key, counting a hit or a miss; expired keys are misses. */
  get(key: string): StoredValue | undefined {
    const packed = this.#cache.get(key);
    if (packed === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    return unpackValue(this.#types, packed);
  }

  /**
   * Writes a key, evicting least recently used entries to make room.
   *
   * @throws {ResourceExhaustedError} when the entry alone exceeds the budget.
   */
  set(write: ShardWrite): void {
    this.#put(write, this.#sizeOf(write));
  }

  /**
   * Writes several keys, all or none: every size is checked first.
   *
   * @throws {ResourceExhaustedError} when any entry exceeds the budget.
   */
  setMany(writes: ShardWrite[]): void {
    const sizes = writes.map((write) => this.#sizeOf(write));
    writes.forEach((write, i) => this.#put(write, sizes[i] ?? 0));
  }

  #sizeOf(write: ShardWrite): number {
    const size = utf8Length(write.key) + valueBytes(write.value);
    if (size > this.#capacity) {
      throw new ResourceExhaustedError(
        `entry is ${size} bytes: a shard holds at most ${this.#capacity}`,
      );
    }
    return size;
  }

  #put(write: ShardWrite, size: number): void {
    if (write.version !== undefined) {
      const held = this.#cache.peek(write.key);
      if (held !== undefined && !this.#isNewer(write, held)) return;
    }
    if (write.ttlMs > 0) this.#holdsTtl = true;
    const packed = packValue(
      this.#types,
      write.value.typeUrl,
      write.value.value,
      write.version,
    );
    this.#cache.set(write.key, packed, { size, ttl: write.ttlMs });
  }

  /**
   * Whether a write should replace the value held: a higher version wins;
   * on equal versions (two frontends in the same clock tick) the greater
   * bytes win, so that every replica picks the same one whatever the
   * arrival order.
   */
  #isNewer(write: ShardWrite, packed: string): boolean {
    const version = write.version ?? 0;
    const heldVersion = packedVersion(packed) ?? 0;
    if (version !== heldVersion) return version > heldVersion;
    const held = unpackValue(this.#types, packed);
    const order = compareStrings(write.value.typeUrl, held.typeUrl) ||
      compareBytes(write.value.value, held.value);
    return order > 0;
  }

  /**
   * Every live entry as a write that recreates it (remaining TTL, version),
   * least recently used first, so that loading them in order keeps the
   * recency order.
   */
  *writes(): Generator<ShardWrite> {
    for (
      const [key, packed] of this.#cache.rentries() as Iterable<
        [string, string]
      >
    ) {
      const ttlMs = this.ttl(key);
      if (ttlMs === undefined) continue;
      const value = unpackValue(this.#types, packed);
      yield {
        key,
        value: { typeUrl: value.typeUrl, value: value.value },
        ttlMs,
        version: value.version,
      };
    }
  }

  /** Removes a key; tells whether it was there (and not expired). */
  delete(key: string): boolean {
    const present = this.#cache.has(key);
    this.#cache.delete(key);
    return present;
  }

  /** Milliseconds left to live: 0 for no expiry, `undefined` on a miss. */
  ttl(key: string): number | undefined {
    if (!this.#cache.has(key)) return undefined;
    const left = this.#cache.getRemainingTTL(key);
    return Number.isFinite(left) ? Math.max(1, Math.ceil(left)) : 0;
  }

  /** Drops expired entries, so that counts and bytes are current. */
  purgeExpired(): void {
    if (this.#holdsTtl) this.#cache.purgeStale();
  }

  /** The store's counters. */
  stats(): ShardCounters {
    return {
      items: this.#cache.size,
      bytes: this.#cache.calculatedSize,
      capacityBytes: this.#capacity,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
    };
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
