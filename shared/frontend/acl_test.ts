/** Unit tests of the client-certificate ACL. */
import assert from "node:assert/strict";
import {
  Acl,
  authorize,
  authorizeAny,
  peerCommonName,
  type ServerSurfaceCall,
} from "./acl.ts";
import { PermissionDeniedError, Status } from "../wire/errors.ts";

/** A fake server call whose TLS peer certificate has common name `cn`. */
function callFrom(cn: string | string[] | undefined): ServerSurfaceCall {
  const sslPeerCertificate = cn === undefined
    ? undefined
    : { subject: { CN: cn } };
  return {
    getAuthContext: () => ({ sslPeerCertificate }),
  } as unknown as ServerSurfaceCall;
}

/** Asserts that `fn` throws a PermissionDeniedError with exactly `message`. */
function assertDenied(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof PermissionDeniedError, String(error));
    assert.equal(error.code, Status.PERMISSION_DENIED);
    assert.equal(error.code, 7);
    assert.equal(error.message, message);
    return true;
  });
}

const acl = new Acl({ client: ["demo", "sessions"], admin: ["*"], nobody: [] });

Deno.test("Acl allows a client the namespaces listed for it, and no others", () => {
  assert.equal(acl.allows("client", "demo"), true);
  assert.equal(acl.allows("client", "sessions"), true);
  assert.equal(acl.allows("client", "other"), false);
  assert.equal(acl.allows("client", ""), false);
  assert.equal(acl.allows("nobody", "demo"), false);
});

Deno.test('Acl "*" grants every namespace', () => {
  assert.equal(acl.allows("admin", "demo"), true);
  assert.equal(acl.allows("admin", "anything at all"), true);
  assert.equal(acl.allows("admin", ""), true);
});

Deno.test("Acl denies an unknown or missing common name", () => {
  assert.equal(acl.allows("stranger", "demo"), false);
  assert.equal(acl.allows(undefined, "demo"), false);
  // Names are exact: no case folding, no inherited properties.
  assert.equal(acl.allows("Client", "demo"), false);
  assert.equal(acl.allows("toString", "demo"), false);
});

Deno.test("Acl knows only the common names it lists", () => {
  assert.equal(acl.knows("client"), true);
  assert.equal(acl.knows("nobody"), true);
  assert.equal(acl.knows("stranger"), false);
  assert.equal(acl.knows(undefined), false);
  assert.equal(acl.knows("constructor"), false);
});

Deno.test("Acl rejects grants that are not an object of string lists", () => {
  for (const grants of [null, undefined, "client", 7, ["demo"], true]) {
    assert.throws(() => new Acl(grants), {
      name: "TypeError",
      message:
        "Cannot read ACL: expected an object from common name to namespaces",
    });
  }
  for (
    const namespaces of ["demo", [1], ["demo", null], { demo: true }, null]
  ) {
    assert.throws(() => new Acl({ ok: ["demo"], client: namespaces }), {
      name: "TypeError",
      message:
        'Cannot read ACL: namespaces of "client" must be a list of strings',
    });
  }
});

Deno.test("an empty Acl denies everyone", () => {
  const empty = new Acl({});
  assert.equal(empty.allows("client", "demo"), false);
  assert.equal(empty.knows("client"), false);
});

Deno.test("peerCommonName reads the certificate's CN, first of several", () => {
  assert.equal(peerCommonName(callFrom("client")), "client");
  assert.equal(peerCommonName(callFrom(["first", "second"])), "first");
  assert.equal(peerCommonName(callFrom(undefined)), undefined);
});

Deno.test("authorize lets a listed client use its namespace", () => {
  assert.doesNotThrow(() => authorize(acl, callFrom("client"), "demo"));
  assert.doesNotThrow(() => authorize(acl, callFrom("admin"), "whatever"));
});

Deno.test("authorize denies a namespace, naming the client and the namespace", () => {
  assertDenied(
    () => authorize(acl, callFrom("client"), "secret"),
    'client "client" may not use namespace "secret"',
  );
  assertDenied(
    () => authorize(acl, callFrom("stranger"), "demo"),
    'client "stranger" may not use namespace "demo"',
  );
  assertDenied(
    () => authorize(acl, callFrom(undefined), "demo"),
    'client "(no certificate)" may not use namespace "demo"',
  );
});

Deno.test("authorize allows everything when there is no ACL", () => {
  assert.doesNotThrow(() => authorize(undefined, callFrom("client"), "secret"));
  assert.doesNotThrow(() =>
    authorize(undefined, callFrom(undefined), "secret")
  );
  assert.doesNotThrow(() => authorizeAny(undefined, callFrom(undefined)));
});

Deno.test("authorizeAny requires the common name to be listed", () => {
  assert.doesNotThrow(() => authorizeAny(acl, callFrom("client")));
  assert.doesNotThrow(() => authorizeAny(acl, callFrom("nobody")));
  assertDenied(
    () => authorizeAny(acl, callFrom("stranger")),
    'client "stranger" is not in the ACL',
  );
  assertDenied(
    () => authorizeAny(acl, callFrom(undefined)),
    'client "(no certificate)" is not in the ACL',
  );
});
