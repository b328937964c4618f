/**
 * The UTF-8 check of request strings on the hot path: decoding a request
 * with the server's definition (malformed requests caught, strings checked
 * for U+FFFD) against grpc-js's plain decoder of the same method, and
 * against the server's decoder as it was before the check.
 *
 * Run: deno bench bench/utf8_bench.ts
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  CFE_SERVER_SERVICE,
  CFE_SERVICE,
  MalformedRequest,
  PROTO_ROOT,
} from "../shared/wire/services.ts";

function encode(type: string, message: object): Buffer {
  return Buffer.from(PROTO_ROOT.lookupType(type).encode(message).finish());
}

const get = encode("ganache.cfe.GetRequest", {
  namespace: "bench",
  key: "user:12345678",
});
const multiGet = encode("ganache.cfe.MultiGetRequest", {
  namespace: "bench",
  keys: Array.from({ length: 100 }, (_, i) => `user:${i}`),
});
const set = encode("ganache.cfe.SetRequest", {
  namespace: "bench",
  key: "user:12345678",
  data: {
    typeUrl: "type.googleapis.com/google.protobuf.StringValue",
    value: new Uint8Array(100),
  },
});

for (
  const [method, bytes] of [
    ["Get", get],
    ["MultiGet", multiGet],
    ["Set", set],
  ] as const
) {
  const group = `decode a ${method} request`;
  const plain = CFE_SERVICE[method]!.requestDeserialize;
  Deno.bench({
    name: "grpc-js decoder (no check)",
    group,
    baseline: true,
    fn: () => void plain(bytes),
  });
  Deno.bench({
    name: "the server's decoder before (no check)",
    group,
    fn: () => {
      // What the server ran before the check: errors caught, nothing more.
      try {
        plain(bytes);
      } catch (error) {
        new MalformedRequest((error as Error).message);
      }
    },
  });
  Deno.bench({
    name: "server decoder (UTF-8 checked)",
    group,
    fn: () => void CFE_SERVER_SERVICE[method]!.requestDeserialize(bytes),
  });
}
