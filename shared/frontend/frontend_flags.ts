/**
 * The flags of a frontend (`start` and `cfe`): where it listens, its
 * certificates and client authentication, its ACL and its largest value.
 *
 * @module
 */
import {
  type Flags,
  type FlagValues,
  listenFlags,
  UsageError,
} from "../flags.ts";
import { CONNECTION_FLAGS, connectionLimits } from "./connection_flags.ts";
import type { FrontendOptions } from "./frontend.ts";

/**
 * The largest `--max-value-bytes`: 64 MiB. A gRPC request may then be
 * twice that (a value and its key, namespace and framing).
 */
export const MAX_VALUE_BYTES_LIMIT = 64 * 1024 * 1024;

/** The flags of a frontend, in the order help lists them. */
export const FRONTEND_FLAGS: Flags = {
  ...listenFlags("40001"),
  ...CONNECTION_FLAGS,
  "max-value-bytes": {
    type: "string",
    default: "4MiB",
    value: "SIZE",
    help: "largest value accepted (type URL included), at most 64MiB",
  },
  certs: {
    type: "string",
    default: "certs",
    value: "DIR",
    help:
      "ca.crt, cfe.crt, cfe.key; generated on first start if there is no CA",
  },
  "client-ca": {
    type: "string",
    value: "FILE",
    help: "CA that client certificates must chain to (default: <certs>/ca.crt)",
  },
  "no-client-auth": {
    type: "boolean",
    help: "accept TLS clients without a certificate, as the original did",
  },
  acl: {
    type: "string",
    value: "FILE",
    help:
      'JSON map from client certificate CN to namespaces, e.g. {"client":["demo"]}',
  },
};

/**
 * A frontend's options from its parsed {@linkcode FRONTEND_FLAGS}.
 *
 * @throws {UsageError} when a value is out of range.
 */
export function frontendOptions(values: FlagValues): FrontendOptions {
  const maxValueBytes = values.size("max-value-bytes");
  if (maxValueBytes > MAX_VALUE_BYTES_LIMIT) {
    throw new UsageError(
      `--max-value-bytes is ${maxValueBytes} bytes: the limit is ${MAX_VALUE_BYTES_LIMIT} (64MiB)`,
    );
  }
  return {
    host: values.text("host")!,
    port: values.integer("port", 0, 65535),
    maxValueBytes,
    certs: values.text("certs")!,
    clientCa: values.text("client-ca"),
    clientAuth: !values.boolean("no-client-auth"),
    metricsPort: values.optionalInteger("metrics-port", 0, 65535),
    acl: values.text("acl"),
    shutdownGraceMs: values.integer("shutdown-grace-ms", 0, 3_600_000),
    limits: connectionLimits(values),
  };
}
