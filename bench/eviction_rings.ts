/**
 * The calls of the eviction workload, built once before any measurement:
 * Sets or MultiSets of distinct keys over a key range, each call's
 * HTTP/2 frames ready to send (see `h2_frames.ts`).
 *
 * @module
 */
import { PROTO_ROOT } from "../shared/wire/services.ts";
import type { AnyValue } from "../shared/wire/messages.ts";
import { callFrames, grpcHeaderBlock } from "./h2_frames.ts";
import { CallRing } from "./raw_grpc_client.ts";

/** The namespace the workload writes. */
export const EVICTION_NAMESPACE = "load";

/** The name the server's certificate is checked against. */
const AUTHORITY = "localhost";

/**
 * Key `i`: `user:` and 8 digits, then 1–7 more characters, so that keys
 * are 14 to 20 bytes long.
 */
export function evictionKey(i: number): string {
  return `user:${String(i).padStart(8, "0")}:${"abcdef".slice(0, i % 7)}`;
}

/** A ring of calls and how many keys each writes. */
export interface KeyRing {
  /** The calls. */
  ring: CallRing;
  /** Keys written per call. */
  keysPerCall: number;
  /** Distinct keys the ring cycles over. */
  keys: number;
}

const SetRequest = PROTO_ROOT.lookupType("ganache.cfe.SetRequest");
const MultiSetRequest = PROTO_ROOT.lookupType("ganache.cfe.MultiSetRequest");

/** Which keys a {@linkcode keyRing} writes, and how. */
export interface KeyRingOptions {
  /** The first key's number. */
  first: number;
  /** How many keys (rounded up to a whole number of batches). */
  keys: number;
  /** Keys per call: 1 for Sets, more for MultiSets. */
  batch: number;
  /** The value every key gets. */
  value: AnyValue;
}

/**
 * The calls that write keys `first .. first + keys - 1` with `value`, in
 * order: one Set each when `batch` is 1, else MultiSets of `batch`
 * consecutive keys.
 */
export function keyRing(options: KeyRingOptions): KeyRing {
  const { first, keys, batch, value } = options;
  const calls: Uint8Array[] = [];
  if (batch === 1) {
    const headers = grpcHeaderBlock("/ganache.cfe.CFE/Set", AUTHORITY);
    for (let i = first; i < first + keys; i++) {
      const message = SetRequest.encode({
        namespace: EVICTION_NAMESPACE,
        key: evictionKey(i),
        data: value,
      }).finish();
      calls.push(callFrames(headers, message));
    }
  } else {
    const headers = grpcHeaderBlock("/ganache.cfe.CFE/MultiSet", AUTHORITY);
    for (let i = first; i < first + keys; i += batch) {
      const items = Array.from({ length: batch }, (_, j) => ({
        key: evictionKey(i + j),
        data: value,
      }));
      const message = MultiSetRequest.encode({
        namespace: EVICTION_NAMESPACE,
        items,
      }).finish();
      calls.push(callFrames(headers, message));
    }
  }
  return {
    ring: new CallRing(calls),
    keysPerCall: batch,
    keys: calls.length * batch,
  };
}
