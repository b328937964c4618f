/**
 * Issues development certificates with `@peculiar/x509`: a private CA
 * (ECDSA P-256, ten years) and leaves signed by it, written as PEM files.
 * `certs.ts` imports this module only when it has something to issue, so
 * that a server whose certificates exist never loads the library (about
 * 3 MiB of V8 heap that every full collection would mark).
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import type { LeafSpec } from "./certs.ts";

const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A CA: its certificate and its key pair. */
export interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

/** Reads the CA in `dir` (`ca.crt` and `ca.key`). */
export async function readCa(dir: string): Promise<Ca> {
  const certPem = await Deno.readTextFile(`${dir}/ca.crt`);
  let keyPem: string;
  try {
    keyPem = await Deno.readTextFile(`${dir}/ca.key`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      `Cannot issue certificates: ${dir}/ca.crt has no ca.key beside it (use --force to make a new CA)`,
    );
  }
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(keyPem),
    EC_KEY,
    true,
    ["sign"],
  );
  const publicKey = await cert.publicKey.export(EC_KEY, ["verify"]);
  return { cert, keys: { privateKey, publicKey } };
}

/** Makes a new CA. */
export async function createCa(): Promise<Ca> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, [
    "sign",
    "verify",
  ]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: "CN=Ganache development CA",
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

/** Issues `leaf`, signed by `ca`, with a new key pair. */
export async function issueLeaf(
  ca: Ca,
  leaf: LeafSpec,
): Promise<{ cert: x509.X509Certificate; privateKey: CryptoKey }> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, [
    "sign",
    "verify",
  ]);
  const usages = [x509.ExtendedKeyUsage.clientAuth];
  if (leaf.server) usages.unshift(x509.ExtendedKeyUsage.serverAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usages),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  if (leaf.hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        leaf.hosts.map((host): x509.JsonGeneralName => ({
          type: isIP(host) ? "ip" : "dns",
          value: host,
        })),
      ),
    );
  }
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${leaf.commonName}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 825 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGNING,
    extensions,
  });
  return { cert, privateKey: keys.privateKey };
}

/** Writes `<name>.key` (mode 0600) and `<name>.crt` in `dir`. */
export async function writePair(
  dir: string,
  name: string,
  cert: x509.X509Certificate,
  privateKey: CryptoKey,
): Promise<void> {
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", privateKey);
  await Deno.writeTextFile(
    `${dir}/${name}.key`,
    x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    { mode: 0o600 },
  );
  await Deno.chmod(`${dir}/${name}.key`, 0o600);
  await Deno.writeTextFile(`${dir}/${name}.crt`, cert.toString("pem"));
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
