/**
 * Hostile requests: values and type URLs at every length boundary, huge
 * and countless type URLs, invalid UTF-8 in string fields, health Watch
 * streams for made-up services, and a request that makes the store throw.
 * Each is answered as the README says, and the server keeps serving
 * correct data.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { MAX_VALUE_BYTES_LIMIT } from "../shared/frontend/frontend_flags.ts";
import {
  clientCredentials,
  tlsChannelOptions,
} from "../shared/frontend/tls.ts";
import { MAX_TYPE_URL_BYTES } from "../shared/wire/limits.ts";
import type { AnyValue } from "../shared/wire/messages.ts";
import { HEALTH_SERVICE } from "../shared/wire/services.ts";
import { rawCallStatus, startTestService, statusOf } from "./helpers.ts";

/** `length` bytes of a pattern that differs from byte to byte. */
function pattern(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + seed) & 0xff;
  return bytes;
}

/** Asserts that `actual` has exactly this type URL and these bytes. */
function assertAny(actual: AnyValue | undefined, expected: AnyValue): void {
  assert.ok(actual, `expected ${expected.typeUrl.slice(0, 40)}, got a miss`);
  assert.equal(actual.typeUrl, expected.typeUrl);
  assert.equal(actual.value.byteLength, expected.value.byteLength);
  // Buffer.compare: a 64 MiB deepEqual would take seconds.
  assert.equal(Buffer.compare(actual.value, expected.value), 0);
}

/** An ASCII type URL of exactly `length` bytes. */
function typeUrl(length: number, seed = ""): string {
  const head = `type.example/${seed}`;
  if (length <= head.length) return head.slice(0, length);
  return head + "x".repeat(length - head.length);
}

Deno.test("values and type URLs at every length boundary are stored and read back byte for byte; longer type URLs are INVALID_ARGUMENT", async () => {
  await using t = await startTestService({
    workers: 2,
    maxValueBytes: MAX_VALUE_BYTES_LIMIT,
    maxBytes: 2 * (MAX_VALUE_BYTES_LIMIT + 16 * 1024 * 1024),
  });
  const client = await t.connect();
  const ns = client.namespace("boundaries");
  const cases: [string, AnyValue][] = [];
  for (const length of [0, 255, 256, 65_535, 65_536]) {
    cases.push([`value-${length}`, { typeUrl: "t", value: pattern(length) }]);
  }
  // The largest value --max-value-bytes allows (its type URL included).
  cases.push([
    "value-largest",
    { typeUrl: "t", value: pattern(MAX_VALUE_BYTES_LIMIT - 1) },
  ]);
  for (const length of [0, 255, 256, MAX_TYPE_URL_BYTES]) {
    cases.push([`type-url-${length}`, {
      typeUrl: typeUrl(length),
      value: pattern(10, length),
    }]);
  }
  for (const [key, value] of cases) await ns.set(key, value);
  for (const [key, value] of cases) assertAny(await ns.get(key), value);
  const read = await ns.multiGet(cases.map(([key]) => key));
  cases.forEach(([, value], i) => assertAny(read[i], value));

  for (const length of [MAX_TYPE_URL_BYTES + 1, 70_000, 1 << 20]) {
    assert.equal(
      await statusOf(ns.set("too-long", {
        typeUrl: typeUrl(length),
        value: pattern(1),
      })),
      grpc.status.INVALID_ARGUMENT,
    );
  }
  assert.equal(
    await statusOf(ns.set("too-large", {
      typeUrl: "t",
      value: pattern(MAX_VALUE_BYTES_LIMIT),
    })),
    grpc.status.INVALID_ARGUMENT,
  );
  assert.equal(await ns.get("too-long"), undefined);
});

Deno.test("300 Sets of one key, each with a distinct 1 MiB type URL, are all INVALID_ARGUMENT and cost nothing", async () => {
  await using t = await startTestService();
  const client = await t.connect();
  const ns = client.namespace("huge-type-urls");
  await ns.setString("kept", "before");
  for (let round = 0; round < 30; round++) {
    const codes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        statusOf(ns.set("k", {
          typeUrl: typeUrl(1 << 20, `${round}-${i}-`),
          value: pattern(16),
        }))),
    );
    assert.deepEqual(codes, Array(10).fill(grpc.status.INVALID_ARGUMENT));
  }
  const { shards } = await client.stats();
  assert.equal(shards.reduce((sum, s) => sum + s.items, 0), 1);
  assert.ok(shards.every((s) => s.bytes < 1 << 20), JSON.stringify(shards));
  assert.equal(await ns.getString("kept"), "before");
  assert.equal(await ns.get("k"), undefined);
});

Deno.test("66,000 distinct type URLs, then a value with the longest type URL: every one reads back exactly", async () => {
  await using t = await startTestService({ maxBytes: 256 * 1024 * 1024 });
  const client = await t.connect();
  const ns = client.namespace("many-type-urls");
  const count = 66_000;
  const valueOf = (i: number): AnyValue => ({
    typeUrl: `type.example/T${i}`,
    value: pattern(8, i),
  });
  for (let start = 0; start < count; start += 10_000) {
    const end = Math.min(count, start + 10_000);
    await ns.multiSet(
      Array.from({ length: end - start }, (_, j) => ({
        key: `k${start + j}`,
        value: valueOf(start + j),
      })),
    );
  }
  const last: AnyValue = {
    typeUrl: typeUrl(MAX_TYPE_URL_BYTES, "last-"),
    value: pattern(65_549),
  };
  await ns.set("last", last);
  assertAny(await ns.get("last"), last);
  for (let start = 0; start < count; start += 10_000) {
    const end = Math.min(count, start + 10_000);
    const keys = Array.from({ length: end - start }, (_, j) => `k${start + j}`);
    const values = await ns.multiGet(keys);
    values.forEach((value, j) => assertAny(value, valueOf(start + j)));
  }
  const { shards } = await client.stats();
  assert.equal(shards.reduce((sum, s) => sum + s.items, 0), count + 1);
});

/** Wire bytes of a length-delimited field. */
function field(number: number, bytes: Uint8Array): number[] {
  assert.ok(bytes.length < 128);
  return [(number << 3) | 2, bytes.length, ...bytes];
}

const utf8 = (text: string) => new TextEncoder().encode(text);

Deno.test("invalid UTF-8 in a namespace, key, MultiGet key or type URL is INVALID_ARGUMENT; \\xFF, \\xFE and U+FFFD no longer collide", async () => {
  await using t = await startTestService();
  const credentials = clientCredentials(t.clientTls);
  const call = (method: string, body: number[]) =>
    rawCallStatus(
      t.address,
      credentials,
      `/ganache.cfe.CFE/${method}`,
      new Uint8Array(body),
    );
  const any = (url: Uint8Array) =>
    new Uint8Array(field(1, url).concat(field(2, utf8("v"))));
  const set = (ns: Uint8Array, key: Uint8Array, url = utf8("t")) =>
    call("Set", [...field(1, ns), ...field(2, key), ...field(3, any(url))]);
  const client = await t.connect();
  const ns = client.namespace("n");

  await ns.setString("\uFFFD", "replacement character");
  const invalid = [[0xff], [0xfe], [0xc3], [0xed, 0xa0, 0x80]];
  for (const bytes of invalid.map((b) => new Uint8Array(b))) {
    assert.equal(await set(utf8("n"), bytes), grpc.status.INVALID_ARGUMENT);
    assert.equal(await set(bytes, utf8("k")), grpc.status.INVALID_ARGUMENT);
    assert.equal(
      await set(utf8("n"), utf8("k"), bytes),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(
      await call("Get", [...field(1, utf8("n")), ...field(2, bytes)]),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(
      await call("MultiGet", [
        ...field(1, utf8("n")),
        ...field(2, utf8("a")),
        ...field(2, bytes),
      ]),
      grpc.status.INVALID_ARGUMENT,
    );
  }
  // A real U+FFFD (EF BF BD) is a valid key of its own.
  assert.equal(
    await call("Get", [...field(1, utf8("n")), ...field(2, utf8("\uFFFD"))]),
    grpc.status.OK,
  );
  assert.equal(await ns.getString("\uFFFD"), "replacement character");
  const { shards } = await client.stats();
  assert.equal(shards.reduce((sum, s) => sum + s.items, 0), 1);
});

Deno.test("health Watch: made-up services answer SERVICE_UNKNOWN and leave nothing behind; a service's watchers go with their streams", async () => {
  await using t = await startTestService();
  const Health = grpc.makeGenericClientConstructor(HEALTH_SERVICE, "Health");
  const health = new Health(
    t.address,
    clientCredentials(t.clientTls),
    tlsChannelOptions(t.address),
  ) as unknown as grpc.Client & {
    Watch(request: { service: string }): grpc.ClientReadableStream<
      { status: string }
    >;
  };
  try {
    const services = [
      ...Array.from({ length: 50 }, (_, i) => `made-up-${i}`),
      "",
      "",
    ];
    const streams = services.map((service) => health.Watch({ service }));
    const first = await Promise.all(
      streams.map((stream) =>
        new Promise<string>((resolve, reject) => {
          stream.once("data", (m: { status: string }) => resolve(m.status));
          stream.once("error", reject);
        })
      ),
    );
    assert.deepEqual(first, [
      ...Array(50).fill("SERVICE_UNKNOWN"),
      "SERVING",
      "SERVING",
    ]);
    assert.deepEqual(t.service.health.watching, {
      watchers: 52,
      services: 1,
    });
    for (const stream of streams) {
      stream.on("error", () => {});
      stream.cancel();
    }
    // A condition, polled: the server drops a watcher when its stream ends.
    while (t.service.health.watching.watchers > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(t.service.health.watching, { watchers: 0, services: 0 });
  } finally {
    health.close();
  }
});

Deno.test("an unexpected error in a shard worker fails that request with INTERNAL; the worker keeps its data", async () => {
  await using t = await startTestService({
    workers: 1,
    workerUrl: new URL("./fixtures/throwing_shard_worker.ts", import.meta.url),
  });
  const client = await t.connect();
  const ns = client.namespace("n");
  await ns.setString("kept", "value");
  assert.equal(await statusOf(ns.get("throw-now")), grpc.status.INTERNAL);
  assert.equal(await ns.getString("kept"), "value");
  const { shards } = await client.stats();
  assert.equal(shards[0]!.restarts, 0);
  assert.equal(shards[0]!.items, 1);
});
