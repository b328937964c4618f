/** Keeps the committed descriptor in step with the `.proto` files. */
import assert from "node:assert/strict";
import { DESCRIPTOR } from "../generated/descriptor.ts";
import { buildDescriptor } from "./generate_descriptor.ts";

Deno.test("the committed descriptor equals one built from the .proto files (run `deno task gen` if not)", () => {
  const committed = JSON.parse(JSON.stringify(DESCRIPTOR));
  const built = JSON.parse(JSON.stringify(buildDescriptor()));
  assert.deepEqual(committed, built);
});

Deno.test("the descriptor holds the CFE and Health services and the wrapper types", () => {
  const built = buildDescriptor() as {
    nested: Record<string, { nested: Record<string, unknown> }>;
  };
  const cfe = (built.nested.ganache?.nested.cfe as {
    nested: Record<string, { methods?: Record<string, unknown> }>;
  }).nested;
  assert.deepEqual(Object.keys(cfe.CFE?.methods ?? {}).sort(), [
    "Delete",
    "FlushNamespace",
    "Get",
    "Increment",
    "MultiDelete",
    "MultiGet",
    "MultiSet",
    "Set",
    "Stats",
    "TTL",
    "Touch",
  ]);
  const google = (built.nested.google?.nested.protobuf as {
    nested: Record<string, unknown>;
  }).nested;
  for (const name of ["Any", "StringValue", "Int64Value", "BytesValue"]) {
    assert.ok(name in google, name);
  }
  assert.ok("health" in (built.nested.grpc?.nested ?? {}));
});
