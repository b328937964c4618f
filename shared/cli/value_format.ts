/**
 * How the client commands turn command-line values into typed values by
 * `--type` (input) and stored values into text or bytes (output).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type Codec, codecs } from "../client_codecs.ts";
import { UsageError } from "../flags.ts";
import type { AnyValue } from "../wire/messages.ts";
import {
  BYTES_TYPE_URL,
  INT64_TYPE_URL,
  STRING_TYPE_URL,
} from "../wire/values.ts";

/** The value types of `--type`. */
export const VALUE_TYPES = ["string", "int64", "json", "bytes"] as const;
/** A value type of `--type`. */
export type ValueType = typeof VALUE_TYPES[number];

/** The flags that say how a value is read or printed. */
export interface ValueFormat {
  /** `--type`; `undefined`: string on input, the stored type on output. */
  type?: ValueType;
  /** `--raw`: bytes as they are, not base64; no trailing newline. */
  raw: boolean;
}

const encoder = new TextEncoder();

/** The value to store, from its bytes as given, by `--type`. */
export function encodeInput(
  bytes: Uint8Array,
  options: ValueFormat,
): AnyValue {
  const type = options.type ?? "string";
  if (type === "bytes") {
    if (options.raw) return codecs.bytes.encode(bytes);
    const text = new TextDecoder().decode(bytes).trim();
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(text)) {
      throw new UsageError(
        "--type bytes takes base64 (or the bytes themselves with --raw)",
      );
    }
    return codecs.bytes.encode(new Uint8Array(Buffer.from(text, "base64")));
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(
      `the value is not valid UTF-8 text: store it with --type bytes --raw`,
    );
  }
  if (type === "string") return codecs.string.encode(text);
  if (type === "int64") {
    const trimmed = text.trim();
    if (!/^-?\d+$/.test(trimmed)) {
      throw new UsageError(
        `--type int64 takes a whole number: received "${trimmed.slice(0, 40)}"`,
      );
    }
    const n = BigInt(trimmed);
    if (n < -(2n ** 63n) || n >= 2n ** 63n) {
      throw new UsageError(
        `${trimmed} does not fit in a signed 64-bit integer`,
      );
    }
    return codecs.int64.encode(n);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--type json takes JSON text: ${(error as Error).message}`,
    );
  }
  return codecs.json.encode(parsed);
}

const TYPE_OF_URL: Record<string, ValueType> = {
  [STRING_TYPE_URL]: "string",
  [INT64_TYPE_URL]: "int64",
  [BYTES_TYPE_URL]: "bytes",
};

/**
 * How a value prints: text for strings, JSON and integers; base64 for
 * bytes; the bytes themselves with `--raw`.
 */
export function printValue(
  key: string,
  value: AnyValue,
  options: ValueFormat,
): string | Uint8Array {
  const stored = TYPE_OF_URL[value.typeUrl];
  const type = options.type ?? stored;
  if (type === undefined) {
    if (options.raw) return value.value;
    throw new Error(
      `${key} holds a ${
        value.typeUrl || "value with no type URL"
      } (${value.value.length} bytes), which the CLI cannot print: use get --raw for its bytes`,
    );
  }
  if (type === "json" ? stored !== "string" : stored !== type) {
    throw new Error(
      `${key} holds a ${value.typeUrl}, not ${
        type === "json" ? "JSON text" : `a ${type}`
      }: read it with --type ${stored ?? "bytes --raw"} (or leave --type out)`,
    );
  }
  const decoded = decodeAs(value, type);
  if (decoded instanceof Uint8Array) {
    return options.raw ? decoded : Buffer.from(decoded).toString("base64");
  }
  return options.raw ? encoder.encode(decoded) : decoded;
}

function decodeAs(value: AnyValue, type: ValueType): string | Uint8Array {
  const codec: Codec<unknown> = codecs[type];
  const decoded = codec.decode(value);
  if (type === "json") return JSON.stringify(decoded);
  return decoded instanceof Uint8Array ? decoded : String(decoded);
}

/** The text of a printed value (bytes decoded as UTF-8). */
export function textOf(printed: string | Uint8Array): string {
  return typeof printed === "string"
    ? printed
    : new TextDecoder().decode(printed);
}
