/**
 * Helpers of the store's unit tests: writes of known sizes, and what the
 * store should charge for them, counted independently of the store.
 *
 * @module
 */
import type { ShardWrite } from "../wire/shard.ts";
import { ShardStore } from "./store.ts";

/** A write of `size` value bytes (each byte is `fill`) under type URL "t". */
export function write(
  key: string,
  size: number,
  options: { ttlMs?: number; typeUrl?: string; fill?: number } = {},
): ShardWrite {
  return {
    key,
    value: {
      typeUrl: options.typeUrl ?? "t",
      value: new Uint8Array(size).fill(options.fill ?? 0),
    },
    ttlMs: options.ttlMs ?? 0,
  };
}

/** An empty store's index: 8 slots of 4 bytes. */
export const INDEX = 32;
const encoder = new TextEncoder();

/**
 * The bytes a write's entry is charged, counted independently of the
 * store: a 32-byte header (40 with a TTL's expiry field), the UTF-8 key and
 * the value, rounded up to 8, and never less than the arena's 48-byte
 * smallest chunk. (Its type URL, short here, is held once in the store's
 * table: see `urlCharge`.)
 */
export function charged(w: ShardWrite): number {
  const header = w.ttlMs > 0 ? 40 : 32;
  const raw = header + encoder.encode(w.key).length + w.value.value.byteLength;
  return Math.max(48, Math.ceil(raw / 8) * 8);
}

/** What a type URL in the store's table costs: 128 bytes and twice its length. */
export function urlCharge(typeUrl: string): number {
  return 128 + 2 * encoder.encode(typeUrl).length;
}

/** The charge of the type URL "t", held while any entry uses it. */
export const T = urlCharge("t");

/** A store with a fake clock, starting at 1 000 ms. */
export function fakeClockStore(maxBytes: number) {
  const clock = { t: 1_000 };
  const store = new ShardStore({ maxBytes, now: () => clock.t });
  return { clock, store };
}
