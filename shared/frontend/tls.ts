/**
 * Loading certificates and building TLS credentials for servers and
 * clients. Uses only `node:` built-ins, so the client runs on Node too.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";

/** The PEM files one side of a TLS connection presents and trusts. */
export interface TlsFiles {
  /** The CA that peers' certificates must chain to. */
  ca: Uint8Array;
  /** This side's certificate chain. */
  cert: Uint8Array;
  /** This side's private key. */
  key: Uint8Array;
}

/**
 * Reads `<dir>/ca.crt`, `<dir>/<name>.crt` and `<dir>/<name>.key`.
 *
 * @param dir The certificates directory.
 * @param name The leaf's file stem, e.g. `cfe` or `client`.
 * @param caPath Another CA file to trust instead of `<dir>/ca.crt`.
 */
export async function readTlsFiles(
  dir: string,
  name: string,
  caPath = `${dir}/ca.crt`,
): Promise<TlsFiles> {
  const read = async (path: string) => {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") {
        throw new Error(
          `Cannot read ${path}: not found (run 'deno task certs' to create development certificates)`,
        );
      }
      throw error;
    }
  };
  const [ca, cert, key] = await Promise.all([
    read(caPath),
    read(`${dir}/${name}.crt`),
    read(`${dir}/${name}.key`),
  ]);
  return { ca, cert, key };
}

/**
 * Server credentials. The CA is always passed, also when client
 * certificates are not required: under Deno, grpc-js without it produces a
 * handshake that OpenSSL-based clients reject ("excessive message size").
 *
 * @param files This server's certificate and the CA its clients chain to.
 * @param requireClientCert Whether clients must present a certificate.
 */
export function serverCredentials(
  files: TlsFiles,
  requireClientCert: boolean,
): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    Buffer.from(files.ca),
    [{
      cert_chain: Buffer.from(files.cert),
      private_key: Buffer.from(files.key),
    }],
    requireClientCert,
  );
}

/** Client credentials that present `files.cert` and trust `files.ca`. */
export function clientCredentials(files: TlsFiles): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(files.ca),
    Buffer.from(files.key),
    Buffer.from(files.cert),
  );
}

/**
 * Channel options for an address. Under Deno, a grpc-js client refuses an
 * IP address as the TLS server name, so an IP target is verified against
 * `serverName` instead (the development certificates carry `localhost`).
 *
 * @param address `host:port`.
 * @param serverName The name to verify the server certificate against.
 */
export function tlsChannelOptions(
  address: string,
  serverName?: string,
): grpc.ChannelOptions {
  const host = splitHostPort(address).host;
  const name = serverName ?? (isIP(host) ? "localhost" : undefined);
  return name === undefined ? {} : { "grpc.ssl_target_name_override": name };
}

/**
 * Splits `host:port`, `[v6]:port` into its parts.
 *
 * @throws {TypeError} when there is no port.
 */
export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  if (!match) {
    throw new TypeError(
      `Cannot parse address: expected host:port: received "${address}"`,
    );
  }
  return { host: match[1]!, port: Number(match[2]) };
}
