/**
 * Request limits and their checks. Every message names the limit.
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";
import type { AnyValue } from "./messages.ts";

/** The most bytes (UTF-8) a key may have. */
export const MAX_KEY_BYTES = 1024;
/** The most bytes (UTF-8) a namespace may have. */
export const MAX_NAMESPACE_BYTES = 256;
/** The most keys one MultiGet or MultiSet may carry. */
export const MAX_BATCH_ITEMS = 10_000;
/**
 * The most bytes (UTF-8) a value's type URL may have. Type URLs name a
 * message type (`type.googleapis.com/google.protobuf.StringValue`); a
 * longer one is almost surely an attempt to make the server hold it.
 */
export const MAX_TYPE_URL_BYTES = 2048;

/**
 * The UTF-8 length of a string, without encoding it.
 *
 * @example
 * ```ts
 * utf8Length("héllo"); // 6
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if (
      unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 2; // a surrogate pair: two units, four bytes
      i++;
    } else {
      bytes += 2; // three bytes (a lone surrogate becomes U+FFFD)
    }
  }
  return bytes;
}

/** The size a value is charged for: its type URL and its bytes. */
export function valueBytes(value: AnyValue): number {
  return utf8Length(value.typeUrl) + value.value.byteLength;
}

/**
 * Checks a namespace and key against the limits.
 *
 * @throws {InvalidArgumentError} when the key is empty or either is too long.
 */
export function checkKey(namespace: string, key: string): void {
  if (key.length === 0) throw new InvalidArgumentError("key is empty");
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no count.
  if (key.length * 3 > MAX_KEY_BYTES) {
    const bytes = utf8Length(key);
    if (bytes > MAX_KEY_BYTES) {
      throw new InvalidArgumentError(
        `key is ${bytes} bytes: the limit is ${MAX_KEY_BYTES}`,
      );
    }
  }
  checkNamespace(namespace);
}

/**
 * Checks a namespace against its limit.
 *
 * @throws {InvalidArgumentError} when it is too long.
 */
export function checkNamespace(namespace: string): void {
  if (namespace.length * 3 > MAX_NAMESPACE_BYTES) {
    const bytes = utf8Length(namespace);
    if (bytes > MAX_NAMESPACE_BYTES) {
      throw new InvalidArgumentError(
        `namespace is ${bytes} bytes: the limit is ${MAX_NAMESPACE_BYTES}`,
      );
    }
  }
}

/**
 * Checks that a value is present and within `maxValueBytes`.
 *
 * @returns The value, narrowed to non-null.
 * @throws {InvalidArgumentError} when it is missing or too large.
 */
export function checkValue(
  data: AnyValue | null | undefined,
  maxValueBytes: number,
): AnyValue {
  if (!data) throw new InvalidArgumentError("data is required");
  checkTypeUrl(data.typeUrl);
  const bytes = valueBytes(data);
  if (bytes > maxValueBytes) {
    throw new InvalidArgumentError(
      `value is ${bytes} bytes: the limit is ${maxValueBytes} (--max-value-bytes)`,
    );
  }
  return data;
}

/**
 * Checks a type URL's length.
 *
 * @throws {InvalidArgumentError} over {@linkcode MAX_TYPE_URL_BYTES}.
 */
export function checkTypeUrl(typeUrl: string): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no count.
  if (typeUrl.length * 3 <= MAX_TYPE_URL_BYTES) return;
  const bytes = utf8Length(typeUrl);
  if (bytes > MAX_TYPE_URL_BYTES) {
    throw new InvalidArgumentError(
      `type URL is ${bytes} bytes: the limit is ${MAX_TYPE_URL_BYTES}`,
    );
  }
}

/**
 * Checks a TTL in milliseconds.
 *
 * @throws {InvalidArgumentError} when it is not a safe non-negative integer.
 */
export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) {
    throw new InvalidArgumentError(
      `ttl_ms is ${ttlMs}: the limit is ${Number.MAX_SAFE_INTEGER}`,
    );
  }
}

/**
 * Checks the item count of a MultiGet or MultiSet.
 *
 * @throws {InvalidArgumentError} over {@linkcode MAX_BATCH_ITEMS}.
 */
export function checkBatch(count: number): void {
  if (count > MAX_BATCH_ITEMS) {
    throw new InvalidArgumentError(
      `request has ${count} keys: the limit is ${MAX_BATCH_ITEMS}`,
    );
  }
}
