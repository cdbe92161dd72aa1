/**
 * The Node implementation of the platform seam (see `./types.ts`): node:crypto `KeyObject`s and
 * synchronous signature checks, `Buffer` for bytes, `node:diagnostics_channel`, `node:fs`, and
 * `node:http(s)` as the default HTTP client. Bun resolves here too: it implements all of these.
 *
 * ```ts
 * import { importRsaKey, verifyRs256Sync } from '#platform'; // this file under Node
 * const key = importRsaKey(jwk.n, jwk.e);
 * verifyRs256Sync(signingInput, signature, key); // true or false
 * ```
 */
import type { KeyObject } from 'node:crypto';
import {
  channel as diagnosticsChannel,
  subscribe as diagnosticsSubscribe,
  unsubscribe as diagnosticsUnsubscribe,
} from 'node:diagnostics_channel';
import type { EventChannel, EventListener } from './types.ts';

export type { EventChannel, EventListener } from './types.ts';

/** An RSA public key as Node holds it. */
export type RsaKey = KeyObject;
/** An EC public key as Node holds it. */
export type EcKey = KeyObject;

export const PLATFORM = 'node';
export const SYNC_SIGNATURES = true;

/**
 * node:crypto at first use, not at import: it loads some forty internal modules, a few ms of every
 * cold start, and importing the package (or a verifier given no keys yet) does not need it.
 */
let cryptoModule: typeof import('node:crypto') | undefined;
function nodeCrypto(): typeof import('node:crypto') {
  cryptoModule ??= builtin<typeof import('node:crypto')>('node:crypto');
  return cryptoModule;
}

export function base64urlBytes(text: string): Uint8Array {
  return Buffer.from(text, 'base64url');
}

export function base64Bytes(text: string): Uint8Array {
  return Buffer.from(text, 'base64');
}

export function asciiBytes(text: string): Uint8Array {
  return Buffer.from(text, 'ascii');
}

export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  return Buffer.concat(chunks, size);
}

// Node's KeyObject is not bound to a hash: the algorithm is chosen at each verification.
export function importRsaKey(n: string, e: string, _alg: 'RS256' | 'RS512' = 'RS256'): RsaKey {
  const fromJwk = nodeCrypto().createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
  // Re-read from its DER form, the key is native to OpenSSL 3's provider; built from JWK members
  // it is converted on every use, making each verification ~3 % slower. Costs ~0.1 ms per key, once.
  return nodeCrypto().createPublicKey({
    key: fromJwk.export({ format: 'der', type: 'spki' }),
    format: 'der',
    type: 'spki',
  });
}

export function verifyRs256Sync(data: Uint8Array, signature: Uint8Array, key: RsaKey): boolean {
  return nodeCrypto().verify('sha256', data, key, signature);
}

/** Signatures being checked on libuv's thread pool right now, by every verifier in the process. */
let pooled = 0;
/** A signature was checked in this synchronous stretch already (callers started in one tick). */
let burst = false;
const endBurst = (): void => {
  burst = false;
};

/** The same check on libuv's thread pool, so several verifications can use several cores. */
function verifyOnPool(data: Uint8Array, signature: Uint8Array, key: RsaKey): Promise<boolean> {
  pooled++;
  return new Promise((resolve) => {
    nodeCrypto().verify('sha256', data, key, signature, (error, valid) => {
      pooled--;
      resolve(!error && valid);
    });
  });
}

/**
 * On the calling thread when no other check is under way (a thread-pool round trip would only
 * add latency), on the thread pool while others are (then the cores verify at once).
 */
export function verifyRs256(
  data: Uint8Array,
  signature: Uint8Array,
  key: RsaKey,
): boolean | Promise<boolean> {
  if (pooled > 0 || burst) return verifyOnPool(data, signature, key);
  burst = true;
  queueMicrotask(endBurst);
  return nodeCrypto().verify('sha256', data, key, signature);
}

export function verifyRs512(data: Uint8Array, signature: Uint8Array, key: RsaKey): boolean {
  return nodeCrypto().verify('sha512', data, key, signature);
}

export function importEcP256Spki(der: Uint8Array): EcKey {
  const key = nodeCrypto().createPublicKey({
    key: Buffer.from(der.buffer, der.byteOffset, der.byteLength),
    format: 'der',
    type: 'spki',
  });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const found =
      key.asymmetricKeyType === 'ec'
        ? `the curve ${key.asymmetricKeyDetails?.namedCurve}`
        : key.asymmetricKeyType;
    throw new TypeError(`ES256 needs a P-256 key, found ${found}`);
  }
  return key;
}

export function verifyEs256Sync(data: Uint8Array, signature: Uint8Array, key: EcKey): boolean {
  return nodeCrypto().verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

export function verifyEs256(data: Uint8Array, signature: Uint8Array, key: EcKey): Promise<boolean> {
  return new Promise((resolve) => {
    nodeCrypto().verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature, (error, valid) =>
      resolve(!error && valid),
    );
  });
}

/** An AES-256-GCM key as Node holds it. */
export type AesKey = KeyObject;

export function randomBytes(size: number): Uint8Array {
  return nodeCrypto().randomBytes(size);
}

export function base64urlText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export function sha256(data: Uint8Array): Uint8Array {
  return nodeCrypto().createHash('sha256').update(data).digest();
}

export function hkdfSha256(secret: Uint8Array, salt: Uint8Array, info: Uint8Array): Uint8Array {
  return new Uint8Array(nodeCrypto().hkdfSync('sha256', secret, salt, info, 32));
}

export function importAesKey(raw: Uint8Array): AesKey {
  return nodeCrypto().createSecretKey(raw);
}

export function sealAesGcm(key: AesKey, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = nodeCrypto().createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([head, tail, cipher.getAuthTag()]);
}

export function openAesGcm(
  key: AesKey,
  iv: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  if (sealed.byteLength < 16) return undefined;
  const decipher = nodeCrypto().createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - 16));
  try {
    const head = decipher.update(sealed.subarray(0, sealed.byteLength - 16));
    const tail = decipher.final(); // checks the tag; GCM has no bytes left here, so no copy
    return tail.byteLength === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    return undefined; // the tag does not match: tampered, truncated, or another key
  }
}

/**
 * Not the global fetch: on Node 20 its first call loads undici, 20-30 ms of every cold start. And
 * loaded at the first request, not with the package: `node:http`, `node:https` and `node:tls` are
 * a large part of an import, and a verifier given a snapshot (or `verifySync` after `hydrate()`)
 * never needs them.
 */
let transport: Promise<typeof fetch> | undefined;
export const defaultFetch: typeof fetch = (input, init) => {
  transport ??= import('./https-fetch.ts').then((module) => module.httpsFetch);
  return transport.then((send) => send(input, init));
};

/** A built-in module at first use (Node 20.16+), so importing the package does not load it. */
function builtin<Module>(name: string): Module {
  return process.getBuiltinModule(name) as Module;
}

export function channel(name: string): EventChannel {
  return diagnosticsChannel(name);
}

export function subscribe(name: string, listener: EventListener): void {
  diagnosticsSubscribe(name, listener);
}

export function unsubscribe(name: string, listener: EventListener): boolean {
  return diagnosticsUnsubscribe(name, listener);
}

export function readTextFileSync(path: string): string {
  return builtin<typeof import('node:fs')>('node:fs').readFileSync(path, 'utf8');
}

export async function writeTextFileAtomic(path: string, text: string): Promise<void> {
  const { rename, rm, writeFile } = builtin<typeof import('node:fs/promises')>('node:fs/promises');
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
