/**
 * Access control by client certificate: which namespaces each common name
 * may read and write.
 *
 * @module
 */
import type { ServerUnaryCall } from "@grpc/grpc-js";
import { PermissionDeniedError } from "../wire/errors.ts";

/** Any server call: what the checks need of it is its TLS peer. */
export type ServerSurfaceCall = Pick<
  ServerUnaryCall<unknown, unknown>,
  "getAuthContext"
>;

/**
 * A namespace grant: from certificate common name to namespaces, where
 * `"*"` grants every namespace.
 *
 * @example
 * ```json
 * { "client": ["demo", "sessions"], "admin": ["*"] }
 * ```
 */
export type AclGrants = Record<string, string[]>;

/** A parsed ACL file. */
export class Acl {
  readonly #grants: Map<string, Set<string>>;

  /**
   * @param grants Common name to namespaces.
   * @throws {TypeError} when the grants are not that shape.
   */
  constructor(grants: unknown) {
    if (
      typeof grants !== "object" || grants === null || Array.isArray(grants)
    ) {
      throw new TypeError(
        "Cannot read ACL: expected an object from common name to namespaces",
      );
    }
    this.#grants = new Map();
    for (const [name, namespaces] of Object.entries(grants)) {
      if (
        !Array.isArray(namespaces) ||
        !namespaces.every((ns) => typeof ns === "string")
      ) {
        throw new TypeError(
          `Cannot read ACL: namespaces of "${name}" must be a list of strings`,
        );
      }
      this.#grants.set(name, new Set(namespaces));
    }
  }

  /** Reads and parses an ACL JSON file. */
  static async load(path: string): Promise<Acl> {
    const text = await Deno.readTextFile(path);
    try {
      return new Acl(JSON.parse(text));
    } catch (error) {
      throw new TypeError(
        `Cannot read ACL ${path}: ${(error as Error).message}`,
      );
    }
  }

  /** Whether `commonName` is named in the ACL at all. */
  knows(commonName: string | undefined): boolean {
    return commonName !== undefined && this.#grants.has(commonName);
  }

  /** Whether `commonName` may use `namespace`. */
  allows(commonName: string | undefined, namespace: string): boolean {
    if (commonName === undefined) return false;
    const namespaces = this.#grants.get(commonName);
    return namespaces !== undefined &&
      (namespaces.has("*") || namespaces.has(namespace));
  }
}

/** The common name of the caller's client certificate, if it sent one. */
export function peerCommonName(call: ServerSurfaceCall): string | undefined {
  const cn = call.getAuthContext().sslPeerCertificate?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/**
 * Checks that the caller may use `namespace`; with no ACL, every
 * authenticated caller may.
 *
 * @throws {PermissionDeniedError} when the ACL does not allow it.
 */
export function authorize(
  acl: Acl | undefined,
  call: ServerSurfaceCall,
  namespace: string,
): void {
  if (acl === undefined) return;
  const name = peerCommonName(call);
  if (!acl.allows(name, namespace)) {
    throw new PermissionDeniedError(
      `client "${
        name ?? "(no certificate)"
      }" may not use namespace "${namespace}"`,
    );
  }
}

/**
 * Checks that the caller is named in the ACL (for calls that touch no
 * namespace, such as Stats).
 *
 * @throws {PermissionDeniedError} when it is not.
 */
export function authorizeAny(
  acl: Acl | undefined,
  call: ServerSurfaceCall,
): void {
  if (acl === undefined) return;
  const name = peerCommonName(call);
  if (!acl.knows(name)) {
    throw new PermissionDeniedError(
      `client "${name ?? "(no certificate)"}" is not in the ACL`,
    );
  }
}
