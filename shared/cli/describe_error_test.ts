import assert from "node:assert/strict";
import { describeError, describeEtcdError } from "./describe_error.ts";

const FRONTEND = {
  what: "the frontend",
  address: "127.0.0.1:40999",
  hint: "is `deno task start` running?",
  timeoutMs: 5000,
};

/** A grpc-js ServiceError as the client rejects with it. */
function serviceError(code: number, details: string): Error {
  return Object.assign(new Error(`${code}: ${details}`), { code, details });
}

Deno.test("describeError names the frontend, its address and the socket's reason", () => {
  assert.equal(
    describeError(
      serviceError(
        14,
        "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:40999. Resolution note: ",
      ),
      FRONTEND,
    ),
    "cannot reach the frontend at 127.0.0.1:40999 (connection refused): is `deno task start` running?",
  );
  assert.match(
    describeError(
      serviceError(
        14,
        "No connection established. Last error: Error: getaddrinfo ENOTFOUND cache.invalid",
      ),
      FRONTEND,
    ),
    /^cannot reach the frontend at .* \(host not found\)/,
  );
  assert.equal(
    describeError(serviceError(4, "Deadline exceeded"), FRONTEND),
    "the frontend at 127.0.0.1:40999 did not answer within 5000 ms (--timeout-ms)",
  );
});

Deno.test("describeError says which side of TLS failed and what to check", () => {
  assert.match(
    describeError(
      serviceError(
        14,
        "No connection established. Last error: Error: unable to verify the first certificate",
      ),
      FRONTEND,
    ),
    /^TLS with the frontend at 127\.0\.0\.1:40999 failed \(unable to verify the first certificate\): .*CA/,
  );
  assert.match(
    describeError(
      serviceError(
        14,
        "No connection established. Last error: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames",
      ),
      FRONTEND,
    ),
    /--server-name/,
  );
});

Deno.test("describeError keeps a server's own refusal as it is", () => {
  assert.equal(
    describeError(serviceError(3, "key is empty"), FRONTEND),
    "key is empty",
  );
  assert.equal(describeError(new Error("plain"), FRONTEND), "plain");
});

Deno.test("describeEtcdError names etcd only for etcd's own errors", () => {
  class GRPCUnavailableError extends Error {}
  assert.equal(
    describeEtcdError(
      new GRPCUnavailableError(
        "14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379. Resolution note: ",
      ),
      ["http://127.0.0.1:2379"],
    ),
    "etcd at http://127.0.0.1:2379 is unreachable (connection refused): is etcd running, and do --etcd, --etcd-ca, --etcd-cert and --etcd-key match it?",
  );
  assert.equal(
    describeEtcdError(new Error("--shards 3 disagrees"), ["http://e:2379"]),
    "--shards 3 disagrees",
  );
});
