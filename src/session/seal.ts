/**
 * Sealing with AES-256-GCM through the platform seam (node:crypto or Web Crypto): a random 96-bit
 * IV per seal, the cookie's name as additional data (a pre-sign-in cookie cannot pass for a
 * session cookie), keys derived with HKDF-SHA256 from each secret and the purpose. The first
 * secret seals; every secret opens, so a secret can be rotated in without signing everyone out.
 */
import {
  type AesKey,
  base64urlBytes,
  base64urlText,
  hkdfSha256,
  importAesKey,
  openAesGcm,
  randomBytes,
  sealAesGcm,
} from '#platform';
import { ConfigError } from '../errors.ts';

/** The format's first byte; a later format gets another. */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Shortest secret accepted: 32 characters (32 random bytes in base64url are 43). */
export const MIN_SECRET_LENGTH = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const SALT = encoder.encode('cognito-jwt/session v1');

/** Keys for one purpose, from every secret; derived once (synchronously on Node). */
export class Sealer {
  /** The additional data of each cookie name, encoded once. */
  readonly #aad = new Map<string, Uint8Array>();
  #keys: readonly AesKey[] | undefined;
  readonly #pending: Promise<readonly AesKey[]>;

  constructor(secrets: readonly string[], purpose: string) {
    for (const [index, secret] of secrets.entries()) {
      if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
        throw new ConfigError(
          `secrets[${index}] must be a string of at least ${MIN_SECRET_LENGTH} characters (32 random bytes, e.g. openssl rand -base64 32)`,
        );
      }
    }
    const info = encoder.encode(purpose);
    // Node derives synchronously, Web Crypto asynchronously (the type is the one of this platform).
    const derived: (Uint8Array | Promise<Uint8Array>)[] = secrets.map((secret) =>
      hkdfSha256(encoder.encode(secret), SALT, info),
    );
    if (derived.every((key): key is Uint8Array => !(key instanceof Promise))) {
      this.#keys = derived.map((raw) => importAesKey(raw));
      this.#pending = Promise.resolve(this.#keys);
    } else {
      this.#pending = Promise.all(derived).then((raws) => {
        const keys = raws.map((raw) => importAesKey(raw));
        this.#keys = keys;
        return keys;
      });
      this.#pending.catch(() => {});
    }
  }

  /** `plaintext` sealed under the first secret, as base64url text. */
  async seal(plaintext: string, aad: string): Promise<string> {
    const keys = this.#keys ?? (await this.#pending);
    const iv = randomBytes(IV_BYTES);
    const sealed = await sealAesGcm(keys[0] as AesKey, iv, encoder.encode(plaintext), this.#aadOf(aad));
    const bytes = new Uint8Array(1 + IV_BYTES + sealed.byteLength);
    bytes[0] = VERSION;
    bytes.set(iv, 1);
    bytes.set(sealed, 1 + IV_BYTES);
    return base64urlText(bytes);
  }

  /** The plaintext, or `undefined` when no secret opens it (tampered, truncated, other secret, junk). */
  async open(value: string, aad: string): Promise<string | undefined> {
    const bytes = base64urlBytes(value);
    // The decoder skips characters outside the alphabet and stops at "=": any of them leaves fewer
    // bytes than the text's length promises, so the value must decode whole (and `% 4 === 1` never does).
    if (value.length % 4 === 1 || bytes.byteLength !== Math.floor((value.length * 3) / 4)) return undefined;
    if (bytes.byteLength < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== VERSION) return undefined;
    const keys = this.#keys ?? (await this.#pending);
    const iv = bytes.subarray(1, 1 + IV_BYTES);
    const sealed = bytes.subarray(1 + IV_BYTES);
    const data = this.#aadOf(aad);
    for (const key of keys) {
      const opened = await openAesGcm(key, iv, sealed, data);
      if (opened !== undefined) {
        try {
          return decoder.decode(opened);
        } catch {
          return undefined;
        }
      }
    }
    return undefined;
  }

  #aadOf(name: string): Uint8Array {
    let data = this.#aad.get(name);
    if (data === undefined) {
      data = encoder.encode(name);
      if (this.#aad.size < 64) this.#aad.set(name, data);
    }
    return data;
  }
}
