/**
 * Tracing (README, Operations): with `OTEL_DENO=true`, a Get through a
 * frontend to a remote shard is one trace: the frontend's server span, its
 * client span to the replica, and the shard's server span, a child of that
 * client span by the `traceparent` the call carried. The spans go to an
 * OTLP/HTTP collector on port 0 that this test runs.
 */
import assert from "node:assert/strict";
import { Cluster } from "./cluster.ts";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

/** An OTLP/HTTP (JSON) trace collector on 127.0.0.1, port 0. */
function startCollector() {
  const spans: OtlpSpan[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.json().catch(() => ({}));
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) {
          spans.push(...(scope.spans ?? []));
        }
      }
      return Response.json({});
    },
  );
  return { spans, port: server.addr.port, close: () => server.shutdown() };
}

/** Polls `find` until it returns something; 60 s is a hang guard only. */
async function until<T>(find: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error("the spans never came");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const SERVER = 2, CLIENT = 3; // OTLP SpanKind

Deno.test("with OTEL_DENO=true, a Get through a frontend to a remote shard is one trace", async () => {
  const collector = startCollector();
  const otel = {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  };
  // The processes the cluster starts inherit this environment.
  for (const [name, value] of Object.entries(otel)) Deno.env.set(name, value);
  try {
    await using cluster = await Cluster.start();
    const shard = await cluster.shard(["--shards", "1"]);
    await cluster.waitForRegistrations((r) =>
      r.some((x) => x.state === "ready")
    );
    const cfe = await cluster.cfe();
    const ns = cfe.client.namespace("traced");
    await ns.setString("k", "v");
    assert.equal(await ns.getString("k"), "v");
    // Processes export their spans in batches, and all at exit.
    for (const process of [cfe.process, shard.process]) {
      process.kill("SIGTERM");
      await process.exited;
    }
    const get = await until(() =>
      collector.spans.find((s) =>
        s.name === "ganache.cfe.CFE/Get" && s.kind === SERVER
      )
    );
    const call = await until(() =>
      collector.spans.find((s) =>
        s.name === "ganache.shard.Shard/Get" && s.kind === CLIENT &&
        s.traceId === get.traceId
      )
    );
    const served = await until(() =>
      collector.spans.find((s) =>
        s.name === "ganache.shard.Shard/Get" && s.kind === SERVER &&
        s.traceId === get.traceId
      )
    );
    // The shard's span descends from the frontend's client span (Deno's
    // own node:http2 POST span may sit between them).
    const byId = new Map(
      collector.spans.filter((s) => s.traceId === get.traceId)
        .map((s) => [s.spanId, s]),
    );
    const ancestors: string[] = [];
    for (
      let span = byId.get(served.parentSpanId ?? "");
      span;
      span = byId.get(span.parentSpanId ?? "")
    ) ancestors.push(span.spanId);
    assert.ok(ancestors.includes(call.spanId), JSON.stringify([...byId]));
    assert.equal(call.parentSpanId, get.spanId);
  } finally {
    for (const name of Object.keys(otel)) Deno.env.delete(name);
    await collector.close();
  }
});
