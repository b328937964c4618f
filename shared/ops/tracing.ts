/**
 * Tracing with Deno's built-in OpenTelemetry (`OTEL_DENO=true` and the
 * standard `OTEL_EXPORTER_OTLP_*` variables): a server span per gRPC call,
 * a client span per call to a shard replica, and W3C `traceparent`
 * metadata between them, so a Get through a frontend to a remote shard is
 * one trace. Without `OTEL_DENO=true` nothing is traced and nothing costs.
 *
 * @module
 */
import {
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import { GANACHE_VERSION } from "./version.ts";

/** The environment variable that turns Deno's OpenTelemetry on. */
const OTEL_SWITCH = "OTEL_DENO";

/** Whether tracing is on (read once; needs env permission for OTEL_DENO). */
export const TRACING = (() => {
  try {
    return Deno.env.get(OTEL_SWITCH) === "true";
  } catch {
    return false;
  }
})();

const tracer = trace.getTracer("ganache", GANACHE_VERSION);

/** The metadata key carrying W3C trace context. */
export const TRACEPARENT = "traceparent";

/**
 * Runs `fn` in a new span, a child of `parent` (a `traceparent` value) or
 * of the active span; the span records errors and ends when `fn` settles.
 */
export function inSpan<T>(
  name: string,
  kind: "server" | "client",
  parent: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!TRACING) return fn();
  const remote = parent ? parseTraceparent(parent) : undefined;
  const base = remote
    ? trace.setSpanContext(context.active(), remote)
    : context.active();
  return tracer.startActiveSpan(
    name,
    { kind: kind === "server" ? SpanKind.SERVER : SpanKind.CLIENT },
    base,
    async (span: Span) => {
      try {
        return await fn();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** The `traceparent` a caller sent in its gRPC metadata, if any. */
export function traceparentOf(
  metadata: { get(key: string): unknown[] },
): string | undefined {
  const value = metadata.get(TRACEPARENT)[0];
  return typeof value === "string" ? value : undefined;
}

/** The active span as a `traceparent` value, when tracing. */
export function currentTraceparent(): string | undefined {
  if (!TRACING) return undefined;
  const span = trace.getActiveSpan()?.spanContext();
  if (!span) return undefined;
  const flags = span.traceFlags.toString(16).padStart(2, "0");
  return `00-${span.traceId}-${span.spanId}-${flags}`;
}

function parseTraceparent(value: string) {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value);
  if (!match) return undefined;
  return {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: parseInt(match[3]!, 16) as TraceFlags,
    isRemote: true,
  };
}
