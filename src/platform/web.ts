/**
 * The Web implementation of the platform seam (see `./types.ts`), for Cloudflare Workers (no
 * `nodejs_compat` needed), Vercel Edge, Deno and browsers: Web Crypto (`crypto.subtle`), the
 * global `fetch`, `Uint8Array` instead of `Buffer`, and no `node:*` import at all. Web Crypto is
 * asynchronous only, so the synchronous checks throw `ERR_SYNC_UNSUPPORTED`.
 *
 * ```ts
 * import { importRsaKey, verifyRs256 } from '#platform'; // this file under workerd, Deno, browsers
 * const key = importRsaKey(jwk.n, jwk.e); // the import has started
 * const valid = await verifyRs256(signingInput, signature, key);
 * ```
 */
import { ConfigError, syncUnsupported } from '../errors.ts';
import type { EventChannel, EventListener } from './types.ts';

export type { EventChannel, EventListener } from './types.ts';

/** The part of a Web Crypto `CryptoKey` this library reads. */
export interface WebCryptoKey {
  readonly type: string;
  readonly algorithm: { readonly name: string };
}

/** The part of `crypto.subtle` this library calls (typed here so no DOM or Node types are needed). */
interface Subtle {
  importKey(
    format: 'jwk' | 'spki',
    keyData: object,
    algorithm: object,
    extractable: boolean,
    usages: string[],
  ): Promise<WebCryptoKey>;
  importKey(
    format: 'raw',
    keyData: Uint8Array,
    algorithm: object | string,
    extractable: boolean,
    usages: string[],
  ): Promise<WebCryptoKey>;
  verify(algorithm: object, key: WebCryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
  deriveBits(algorithm: object, key: WebCryptoKey, length: number): Promise<ArrayBuffer>;
  encrypt(algorithm: object, key: WebCryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: object, key: WebCryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
}

/** An RSA public key being imported (or imported): awaited at its first use. */
export type RsaKey = Promise<WebCryptoKey>;
/** An EC public key being imported (or imported): awaited at its first use. */
export type EcKey = Promise<WebCryptoKey>;

export const PLATFORM = 'web';
export const SYNC_SIGNATURES = false;

const subtle = (): Subtle => (globalThis as unknown as { crypto: { subtle: Subtle } }).crypto.subtle;

/**
 * Value of each character in either base64 alphabet (both, like Node's decoder), -1 otherwise:
 * `A`-`Z` 0-25, `a`-`z` 26-51, `0`-`9` 52-61, then `+` or `-` 62 and `/` or `_` 63.
 */
const SEXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < 26; i++) {
  SEXTETS[65 + i] = i;
  SEXTETS[97 + i] = 26 + i;
  if (i < 10) SEXTETS[48 + i] = 52 + i;
}
SEXTETS[43] = SEXTETS[45] = 62;
SEXTETS[47] = SEXTETS[95] = 63;

/** Node's decoding rules, so `token/base64url.ts` sees the same bytes on both platforms. */
function decodeLenient(text: string): Uint8Array {
  const out = new Uint8Array((text.length * 3) >>> 2);
  let length = 0;
  let bits = 0;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 61 /* = */) break;
    const value = code < 128 ? SEXTETS[code]! : -1;
    if (value < 0) continue;
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[length++] = (bits >>> count) & 0xff;
    }
  }
  return length === out.length ? out : out.subarray(0, length);
}

export function base64urlBytes(text: string): Uint8Array {
  return decodeLenient(text);
}

export function base64Bytes(text: string): Uint8Array {
  return decodeLenient(text);
}

export function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk.subarray(0, size - offset), offset);
    offset += chunk.byteLength;
    if (offset >= size) break;
  }
  return bytes;
}

/** A promise that may never be awaited must not be reported as an unhandled rejection. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

const RS256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const RS512 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' };
const ES256_KEY = { name: 'ECDSA', namedCurve: 'P-256' };
const ES256 = { name: 'ECDSA', hash: 'SHA-256' };

export function importRsaKey(n: string, e: string, alg: 'RS256' | 'RS512' = 'RS256'): RsaKey {
  const algorithm = alg === 'RS512' ? RS512 : RS256;
  return quiet(subtle().importKey('jwk', { kty: 'RSA', n, e, alg, ext: true }, algorithm, false, ['verify']));
}

export function verifyRs256Sync(_data: Uint8Array, _signature: Uint8Array, _key: RsaKey): boolean {
  throw syncUnsupported();
}

export async function verifyRs256(data: Uint8Array, signature: Uint8Array, key: RsaKey): Promise<boolean> {
  return subtle().verify(RS256, await key, signature, data);
}

export async function verifyRs512(data: Uint8Array, signature: Uint8Array, key: RsaKey): Promise<boolean> {
  return subtle().verify(RS512, await key, signature, data);
}

export function importEcP256Spki(der: Uint8Array): EcKey {
  return quiet(subtle().importKey('spki', der, ES256_KEY, false, ['verify']));
}

export function verifyEs256Sync(_data: Uint8Array, _signature: Uint8Array, _key: EcKey): boolean {
  throw syncUnsupported();
}

export async function verifyEs256(data: Uint8Array, signature: Uint8Array, key: EcKey): Promise<boolean> {
  // Web Crypto reads ECDSA signatures as R‖S natively, and refuses any other length by answering false.
  return subtle().verify(ES256, await key, signature, data);
}

/** An AES-256-GCM key being imported (or imported): awaited at its first use. */
export type AesKey = Promise<WebCryptoKey>;

export function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  (
    globalThis as unknown as { crypto: { getRandomValues(array: Uint8Array): Uint8Array } }
  ).crypto.getRandomValues(bytes);
  return bytes;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function base64urlText(bytes: Uint8Array): string {
  let text = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    text +=
      BASE64URL[n >>> 18]! + BASE64URL[(n >>> 12) & 63]! + BASE64URL[(n >>> 6) & 63]! + BASE64URL[n & 63]!;
  }
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    text += BASE64URL[n >>> 18]! + BASE64URL[(n >>> 12) & 63]!;
    if (i + 1 < bytes.length) text += BASE64URL[(n >>> 6) & 63]!;
  }
  return text;
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', data));
}

export async function hkdfSha256(
  secret: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
): Promise<Uint8Array> {
  const key = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, 256));
}

export function importAesKey(raw: Uint8Array): AesKey {
  return quiet(subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']));
}

export async function sealAesGcm(
  key: AesKey,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 },
      await key,
      plaintext,
    ),
  );
}

export async function openAesGcm(
  key: AesKey,
  iv: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(
      await subtle().decrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, await key, sealed),
    );
  } catch {
    return undefined; // the tag does not match: tampered, truncated, or another key
  }
}

// Late-bound, so a runtime (or a test) that replaces the global fetch is honoured.
export const defaultFetch: typeof fetch = (input, init) => fetch(input, init);

/** A channel's listeners, by channel name; there is no process-wide registry to share with other libraries on the Web. */
const listenersOf = new Map<string, Set<EventListener>>();

function listeners(name: string): Set<EventListener> {
  let found = listenersOf.get(name);
  if (!found) {
    found = new Set();
    listenersOf.set(name, found);
  }
  return found;
}

export function channel(name: string): EventChannel {
  const current = listeners(name);
  return {
    get hasSubscribers() {
      return current.size > 0;
    },
    publish(message) {
      for (const listener of current) {
        try {
          listener(message, name);
        } catch (error) {
          // Like node:diagnostics_channel: a throwing listener neither stops the others nor the publisher.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    },
  };
}

export function subscribe(name: string, listener: EventListener): void {
  listeners(name).add(listener);
}

export function unsubscribe(name: string, listener: EventListener): boolean {
  return listeners(name).delete(listener);
}

function noFileSystem(path: string): ConfigError {
  return new ConfigError(
    `this runtime has no file system to read or write the JWKS snapshot ${path}: ` +
      'pass the snapshot object, or keep it with the snapshotStore option',
  );
}

export function readTextFileSync(path: string): string {
  throw noFileSystem(path);
}

export async function writeTextFileAtomic(path: string, _text: string): Promise<void> {
  throw noFileSystem(path);
}
