import { ensureDevCerts } from "./shared/certs.ts";
console.log(await ensureDevCerts("/tmp/c1"));
console.log(await ensureDevCerts("/tmp/c1"));
