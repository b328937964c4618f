/**
 * Refusing `string` fields that are not valid UTF-8. protobufjs decodes
 * invalid bytes to U+FFFD without a word, so the keys `\xFF`, `\xFE` and a
 * real U+FFFD would all be one key. Checking costs one scan of each decoded
 * string for U+FFFD; only a request that has one is decoded a second time,
 * with its strings read as bytes, and those bytes are validated.
 *
 * @module
 */
import protobuf from "protobufjs";
import { DESCRIPTOR } from "./generated/descriptor.ts";

/** Every message with its `string` fields as declared. */
const ROOT = protobuf.Root.fromJSON(
  DESCRIPTOR as unknown as protobuf.INamespace,
).resolveAll();

/** The same messages with every `string` field read as `bytes`. */
const RAW_ROOT = protobuf.Root.fromJSON(
  stringsAsBytes(DESCRIPTOR) as protobuf.INamespace,
).resolveAll();

/** A copy of a protobufjs JSON descriptor with `string` fields as `bytes`. */
function stringsAsBytes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stringsAsBytes);
  if (typeof node !== "object" || node === null) return node;
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node)) {
    copy[name] = name === "type" && value === "string"
      ? "bytes"
      : stringsAsBytes(value);
  }
  return copy;
}

/** A decoded message as grpc-js hands it over. */
type Message = Record<string, unknown>;

/** One field that holds strings, directly or in a nested message. */
interface StringField {
  name: string;
  repeated: boolean;
  /** The nested message's string fields; absent for a `string` field. */
  nested?: StringField[];
}

/** The fields of `type` that hold strings, nested messages included. */
function stringFields(type: protobuf.Type, depth = 0): StringField[] {
  if (depth > 8) return []; // no Ganache message nests this deep
  const fields: StringField[] = [];
  for (const field of type.fieldsArray) {
    const repeated = field.repeated;
    if (field.type === "string") {
      fields.push({ name: field.name, repeated });
    } else if (field.resolvedType instanceof protobuf.Type) {
      const nested = stringFields(field.resolvedType, depth + 1);
      if (nested.length > 0) {
        fields.push({ name: field.name, repeated, nested });
      }
    }
  }
  return fields;
}

/** Whether any string in `message` holds U+FFFD. Allocates nothing. */
function hasReplacement(fields: StringField[], message: Message): boolean {
  for (let f = 0; f < fields.length; f++) {
    const field = fields[f]!;
    const value = message[field.name];
    if (value === null || value === undefined) continue;
    if (!field.repeated) {
      if (holdsReplacement(field, value)) return true;
      continue;
    }
    const values = value as unknown[];
    for (let i = 0; i < values.length; i++) {
      if (holdsReplacement(field, values[i])) return true;
    }
  }
  return false;
}

/** Whether one value of `field` holds U+FFFD. */
function holdsReplacement(field: StringField, value: unknown): boolean {
  return field.nested
    ? hasReplacement(field.nested, value as Message)
    : (value as string).includes("\uFFFD");
}

const STRICT = new TextDecoder("utf-8", { fatal: true });

/** The path of the first field whose bytes are not UTF-8, if any. */
function invalidField(
  fields: StringField[],
  message: Message,
  prefix: string,
): string | undefined {
  for (const field of fields) {
    const value = message[field.name];
    if (value === null || value === undefined) continue;
    const values = field.repeated ? value as unknown[] : [value];
    for (let i = 0; i < values.length; i++) {
      const path = `${prefix}${field.name}${field.repeated ? `[${i}]` : ""}`;
      if (field.nested) {
        const found = invalidField(
          field.nested,
          values[i] as Message,
          `${path}.`,
        );
        if (found) return found;
      } else {
        const bytes = values[i];
        // An absent field decodes to protobufjs's empty default (an array).
        if (!(bytes instanceof Uint8Array) || bytes.length === 0) continue;
        try {
          STRICT.decode(bytes);
        } catch {
          return path;
        }
      }
    }
  }
  return undefined;
}

/**
 * A check of one request type's strings, run after grpc-js decoded it.
 *
 * @param request The decoded request.
 * @param bytes The request's wire bytes.
 * @returns The path of a field that is not valid UTF-8 (`"key"`,
 * `"items[2].data.typeUrl"`), or `undefined` when every string is.
 */
export type Utf8Check = (request: unknown, bytes: Uint8Array) =>
  | string
  | undefined;

/**
 * The UTF-8 check of a message type's `string` fields.
 *
 * @param typeName The full name, e.g. `ganache.cfe.GetRequest`.
 * @example
 * ```ts
 * const check = utf8Check("ganache.cfe.GetRequest");
 * check({ namespace: "n", key: "k" }, bytes); // undefined: valid
 * ```
 */
export function utf8Check(typeName: string): Utf8Check {
  const fields = stringFields(ROOT.lookupType(typeName));
  const raw = RAW_ROOT.lookupType(typeName);
  if (fields.length === 0) return () => undefined;
  return (request, bytes) => {
    if (!hasReplacement(fields, request as Message)) return undefined;
    // Rare: a U+FFFD, real or made by the decoder. Look at the bytes.
    return invalidField(fields, raw.decode(bytes) as unknown as Message, "");
  };
}

/**
 * The full name of a method's request type.
 *
 * @param path The gRPC path, `/ganache.cfe.CFE/Get`.
 */
export function requestTypeOf(path: string): string {
  const [service, method] = path.slice(1).split("/");
  const resolved = ROOT.lookupService(service!).methods[method!]!
    .resolvedRequestType!;
  return resolved.fullName.slice(1);
}
