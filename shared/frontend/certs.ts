/**
 * Development certificates: a private CA and the leaf certificates that
 * Ganache's components present to each other (ECDSA P-256, PEM files).
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import { logger } from "../ops/log.ts";

const log = logger("certs");

const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A leaf certificate that `ensureDevCerts` creates when it is missing. */
export interface LeafSpec {
  /** File stem: `<name>.crt` and `<name>.key`. */
  name: string;
  /** Subject common name, the identity ACLs match against. */
  commonName: string;
  /** Whether the certificate may authenticate a TLS server. */
  server: boolean;
  /** DNS names and IP addresses the certificate is valid for. */
  hosts: string[];
}

/**
 * The leaves of a development install. Frontends and shards also call
 * shards, so their certificates carry client usage as well as server usage.
 */
export const DEV_LEAVES: readonly LeafSpec[] = [
  {
    name: "cfe",
    commonName: "ganache-cfe",
    server: true,
    hosts: ["localhost", "127.0.0.1", "::1"],
  },
  {
    name: "shard",
    commonName: "ganache-shard",
    server: true,
    hosts: ["localhost", "127.0.0.1", "::1"],
  },
  { name: "client", commonName: "client", server: false, hosts: [] },
];

/** Common names of the certificates a shard accepts calls from. */
export const PEER_COMMON_NAMES = ["ganache-cfe", "ganache-shard"];

/** What `ensureDevCerts` found and did. */
export interface EnsureResult {
  /** Files written, by name (e.g. `ca.crt`). */
  created: string[];
  /** Whether a new CA was made (and so every leaf was remade). */
  newCa: boolean;
}

/**
 * Makes sure `dir` holds a CA and every leaf in {@linkcode DEV_LEAVES}.
 *
 * Without `ca.crt` a new CA is generated and every leaf is (re)issued under
 * it; with a CA, only missing leaves are issued (which needs `ca.key`).
 * Private keys are written with mode 0600.
 *
 * @param dir The certificates directory, created if missing.
 * @param options `force` remakes the CA and every leaf; `hosts` adds DNS
 * names or addresses to the server certificates (`cfe`, `shard`) it issues,
 * e.g. the service names of a container deployment.
 * @returns The files written.
 */
export async function ensureDevCerts(
  dir: string,
  options: { force?: boolean; hosts?: string[] } = {},
): Promise<EnsureResult> {
  await Deno.mkdir(dir, { recursive: true });
  const created: string[] = [];
  const newCa = options.force === true || !await hasCa(dir);
  let ca: Ca | undefined;
  if (newCa) {
    ca = await createCa();
    await writePair(dir, "ca", ca.cert, ca.keys.privateKey);
    created.push("ca.crt", "ca.key");
  }
  for (const leaf of DEV_LEAVES) {
    if (!newCa && await exists(`${dir}/${leaf.name}.crt`)) continue;
    ca ??= await readCa(dir);
    const hosts = leaf.server ? [...leaf.hosts, ...options.hosts ?? []] : [];
    const issued = await issueLeaf(ca, { ...leaf, hosts });
    await writePair(dir, leaf.name, issued.cert, issued.privateKey);
    created.push(`${leaf.name}.crt`, `${leaf.name}.key`);
  }
  if (created.length > 0) log.info(`wrote ${created.join(", ")} in ${dir}`);
  return { created, newCa };
}

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

/**
 * Whether `dir` already has a CA certificate. Starting a server generates
 * certificates only when it has none, so operator-supplied ones are never
 * touched.
 */
export function hasCa(dir: string): Promise<boolean> {
  return exists(`${dir}/ca.crt`);
}

async function readCa(dir: string): Promise<Ca> {
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

async function createCa(): Promise<Ca> {
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

async function issueLeaf(
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

async function writePair(
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
