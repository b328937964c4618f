/**
 * The UTF-8 check of request strings on the hot path: decoding a request
 * with the server's definition (malformed requests caught, strings checked
 * for U+FFFD) against grpc-js's plain decoder of the same method.
 *
 * Run: deno bench bench/utf8_bench.ts
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  CFE_SERVER_SERVICE,
  CFE_SERVICE,
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
  Deno.bench({
    name: "grpc-js decoder (no check)",
    group,
    baseline: true,
    fn: () => void CFE_SERVICE[method]!.requestDeserialize(bytes),
  });
  Deno.bench({
    name: "server decoder (UTF-8 checked)",
    group,
    fn: () => void CFE_SERVER_SERVICE[method]!.requestDeserialize(bytes),
  });
}
