/**
 * One line that says what went wrong, naming the thing that failed: the
 * frontend (or etcd) and its address, instead of a transport's raw error.
 *
 * @module
 */

/** What the failed call was talking to. */
export interface ErrorContext {
  /** What the address is, e.g. "the frontend" or "etcd". */
  what: string;
  /** Its address, e.g. `127.0.0.1:40001` or `http://127.0.0.1:2379`. */
  address: string;
  /** What to check when it cannot be reached, e.g. "is `deno task start` running?". */
  hint?: string;
  /** The call's deadline, for the message when it passes. */
  timeoutMs?: number;
}

/** gRPC status codes the messages name. */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** Socket error codes and what they mean to a person. */
const REASONS: [RegExp, string][] = [
  [/ECONNREFUSED|connection refused/i, "connection refused"],
  [/ENOTFOUND|EAI_AGAIN|Name resolution failed|DNS/i, "host not found"],
  [/EHOSTUNREACH|ENETUNREACH/i, "no route to host"],
  [/ETIMEDOUT|timed out/i, "connection timed out"],
  [/ECONNRESET|socket hang up|connection reset/i, "connection reset"],
];

/**
 * Describes an error of a call to `context`, in one line.
 *
 * @example
 * ```ts
 * describeError(error, { what: "the frontend", address: "127.0.0.1:40999", hint: "is `deno task start` running?" });
 * // "cannot reach the frontend at 127.0.0.1:40999 (connection refused): is `deno task start` running?"
 * ```
 */
export function describeError(error: unknown, context: ErrorContext): string {
  const e = error as { code?: unknown; details?: unknown; message?: unknown };
  const text = typeof e.details === "string" && e.details
    ? e.details
    : error instanceof Error
    ? error.message
    : String(error);
  const where = `${context.what} at ${context.address}`;
  const transport = e.code === UNAVAILABLE ||
    /No connection established|ECONN|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH/.test(
      text,
    );
  if (transport) {
    if (/ALTNAME|altnames/i.test(text)) {
      return `TLS with ${where} failed: the server's certificate does not carry the name asked for (${
        tlsReason(text)
      }): pass --server-name with a name it carries`;
    }
    if (/certificate|SSL|TLS|handshake|self.signed|CERT_/i.test(text)) {
      return `TLS with ${where} failed (${
        tlsReason(text)
      }): do the certificates in --certs come from the CA that signed the server's?`;
    }
    const reason = REASONS.find(([pattern]) => pattern.test(text))?.[1];
    if (reason || /No connection established/.test(text)) {
      const hint = context.hint ? `: ${context.hint}` : "";
      return `cannot reach ${where} (${reason ?? "no connection"})${hint}`;
    }
  }
  if (e.code === DEADLINE_EXCEEDED) {
    const ms = context.timeoutMs ? ` within ${context.timeoutMs} ms` : "";
    return `${where} did not answer${ms} (--timeout-ms)`;
  }
  // grpc-js appends an empty "Resolution note" to connection failures.
  return text.replace(/\.?\s*Resolution note:\s*$/, "");
}

function tlsReason(text: string): string {
  const last = text.replace(/\.?\s*Resolution note:\s*$/, "")
    .split(/Last error: (?:Error: )?/).pop()!;
  return last.trim() || "handshake failed";
}

/**
 * Describes an error of a role that talks to etcd: an error from the etcd
 * client (`GRPC...Error`) names etcd and its endpoints; any other error is
 * its message.
 *
 * @example
 * ```ts
 * describeEtcdError(error, ["http://127.0.0.1:2379"]);
 * // "etcd at http://127.0.0.1:2379 is unreachable (connection refused): is etcd running, ...?"
 * ```
 */
export function describeEtcdError(error: unknown, urls: string[]): string {
  const address = urls.join(", ");
  const fromEtcd = error instanceof Error &&
    /^GRPC\w*Error$/.test(error.constructor.name);
  if (!fromEtcd) return error instanceof Error ? error.message : String(error);
  const text = describeError(error, {
    what: "etcd",
    address,
    hint:
      "is etcd running, and do --etcd, --etcd-ca, --etcd-cert and --etcd-key match it?",
  });
  const unreachable = /^cannot reach etcd at .*? \(([^)]*)\)(.*)$/.exec(text);
  if (unreachable) {
    return `etcd at ${address} is unreachable (${unreachable[1]})${
      unreachable[2]
    }`;
  }
  return text.startsWith("TLS with etcd")
    ? text
    : `etcd at ${address} refused: ${text}`;
}
