/** Bad input gets a clear status, and the server keeps serving and keeps its data. */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { clientCredentials } from "../shared/frontend/tls.ts";
import { encodeString } from "../shared/wire/values.ts";
import {
  rawCall,
  rawCallStatus,
  startTestService,
  type TestService,
} from "./helpers.ts";

/** Calls a CFE method and returns the error's code and message. */
async function failure(t: TestService, method: string, request: unknown) {
  const client = await t.connect();
  try {
    await client.cfe(method, request);
  } catch (error) {
    const { code, details } = error as grpc.ServiceError;
    return { code, details };
  }
  throw new Error(`${method} succeeded`);
}

Deno.test("bad keys, namespaces, values and TTLs are INVALID_ARGUMENT naming the limit", async () => {
  await using t = await startTestService({ maxValueBytes: 1000 });
  const data = encodeString("v");
  const cases: [string, unknown, RegExp][] = [
    ["Get", { namespace: "n", key: "" }, /^key is empty$/],
    ["Set", { namespace: "n", key: "", data }, /^key is empty$/],
    [
      "Get",
      { namespace: "n", key: "k".repeat(1025) },
      /^key is 1025 bytes: the limit is 1024$/,
    ],
    [
      "Delete",
      { namespace: "n", key: "é".repeat(513) },
      /^key is 1026 bytes: the limit is 1024$/,
    ],
    [
      "TTL",
      { namespace: "n".repeat(257), key: "k" },
      /^namespace is 257 bytes: the limit is 256$/,
    ],
    ["Set", { namespace: "n", key: "k" }, /^data is required$/],
    [
      "Set",
      {
        namespace: "n",
        key: "k",
        data: { typeUrl: "t", value: new Uint8Array(1000) },
      },
      /^value is 1001 bytes: the limit is 1000/,
    ],
    ["MultiGet", { namespace: "n", keys: ["a", ""] }, /^key is empty$/],
    [
      "MultiGet",
      { namespace: "n", keys: Array(10_001).fill("k") },
      /^request has 10001 keys: the limit is 10000$/,
    ],
    [
      "MultiSet",
      { namespace: "n", items: [{ key: "a", data }, { key: "b" }] },
      /^data is required$/,
    ],
  ];
  for (const [method, request, message] of cases) {
    const { code, details } = await failure(t, method, request);
    assert.equal(code, grpc.status.INVALID_ARGUMENT, `${method}: ${details}`);
    assert.match(details, message);
  }
});

Deno.test("a value larger than one shard's capacity is RESOURCE_EXHAUSTED and evicts nothing", async () => {
  await using t = await startTestService({ workers: 2, maxBytes: 20_000 });
  const ns = (await t.connect()).namespace("big");
  await ns.setString("small", "kept");
  const { code, details } = await failure(t, "Set", {
    namespace: "big",
    key: "huge",
    data: { typeUrl: "t", value: new Uint8Array(15_000) },
  });
  assert.equal(code, grpc.status.RESOURCE_EXHAUSTED);
  // 10,000 bytes a shard, less its empty index (32 bytes).
  assert.match(details, /a shard holds at most 9968$/);
  assert.equal(await ns.getString("small"), "kept");
});

Deno.test("a malformed protobuf is INVALID_ARGUMENT and the server keeps serving", async () => {
  await using t = await startTestService();
  await (await t.connect()).namespace("n").setString("k", "kept");
  const credentials = clientCredentials(t.clientTls);
  // Field 1, length-delimited, claiming 100 bytes that are not there.
  const truncated = new Uint8Array([0x0a, 0x64, 0x61]);
  // The decoder's own words (offsets, lengths) stay in the server's log.
  assert.deepEqual(
    await rawCall(t.address, credentials, "/ganache.cfe.CFE/Get", truncated),
    { code: grpc.status.INVALID_ARGUMENT, details: "malformed request" },
  );
  assert.equal(
    await rawCallStatus(
      t.address,
      credentials,
      "/ganache.cfe.CFE/Flush",
      new Uint8Array(0),
    ),
    grpc.status.UNIMPLEMENTED,
  );
  assert.equal(await (await t.connect()).namespace("n").getString("k"), "kept");
});
