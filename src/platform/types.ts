/**
 * The one seam where Node and the Web differ. The rest of the library imports these functions
 * from `#platform`, which package.json `imports` resolves once, when the module graph loads:
 * `./platform/node.ts` under Node and Bun (node:crypto `KeyObject`s, synchronous signatures),
 * `./platform/web.ts` under workerd, Deno, browsers and any other runtime (Web Crypto, `fetch`,
 * no `Buffer`, no `node:*`). Calls are plain imported bindings: no lookup per call.
 *
 * Both implementations are checked against {@link Platform} at compile time
 * (`src/platform/conformance.ts`), each with its own key types.
 *
 * ```ts
 * import { base64urlBytes, verifyRs256 } from '#platform';
 * const valid = await verifyRs256(signingInput, base64urlBytes(signatureSegment), key);
 * ```
 */

/** A named event channel: publishing costs a property read while nobody listens. */
export interface EventChannel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

/** A listener of an {@link EventChannel}: the message and the channel's name. */
export type EventListener = (message: unknown, name: string | symbol) => void;

/**
 * Everything `#platform` exports. `RsaKey` and `EcKey` are what one implementation imports keys
 * as: `KeyObject` on Node, a pending `CryptoKey` (import started, awaited at first use) on the Web.
 *
 * ```ts
 * import type * as node from './node.ts';
 * const checked: Platform<node.RsaKey, node.EcKey> = {} as typeof node;
 * ```
 */
export interface Platform<RsaKey, EcKey, AesKey = unknown> {
  /** Which implementation this is. */
  readonly PLATFORM: 'node' | 'web';
  /** Signatures can be checked synchronously (`verifySync()`); false on Web Crypto. */
  readonly SYNC_SIGNATURES: boolean;

  /**
   * Decode base64url leniently (characters outside the alphabet skipped, `+` and `/` read as `-`
   * and `_`, stop at `=`): `token/base64url.ts` makes it strict by checking the length and
   * alphabet around it, the same way on both platforms.
   */
  base64urlBytes(text: string): Uint8Array;
  /** Decode standard base64 (PEM bodies), leniently in the same way. */
  base64Bytes(text: string): Uint8Array;
  /** Bytes of a text known to be ASCII (a JWS signing input). */
  asciiBytes(text: string): Uint8Array;
  /** `size` bytes from `chunks`, in one array. */
  concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array;

  /**
   * Import an RSA public key from its JWK members (already checked: base64url, modulus size,
   * exponent) for one algorithm (default RS256; Web Crypto binds the hash to the key). Node imports it at once and throws when it cannot; the Web starts the import and
   * a failure surfaces at the first verification.
   */
  importRsaKey(n: string, e: string, alg?: 'RS256' | 'RS512'): RsaKey;
  /** RSASSA-PKCS1-v1_5 with SHA-256, synchronously; the Web throws `ERR_SYNC_UNSUPPORTED`. */
  verifyRs256Sync(data: Uint8Array, signature: Uint8Array, key: RsaKey): boolean;
  /**
   * The same check for `verify()`: Node answers synchronously when nothing else is being checked
   * and uses the thread pool while other checks are under way; the Web always returns a promise.
   */
  verifyRs256(data: Uint8Array, signature: Uint8Array, key: RsaKey): boolean | Promise<boolean>;
  /**
   * RSASSA-PKCS1-v1_5 with SHA-512 (identity pools' OpenID tokens), for a key imported with
   * `alg: 'RS512'`: synchronous on Node, a promise on the Web.
   */
  verifyRs512(data: Uint8Array, signature: Uint8Array, key: RsaKey): boolean | Promise<boolean>;

  /**
   * Import an EC P-256 public key from its SPKI (DER) bytes. Throws (Node) or rejects at first
   * use (Web) when the bytes are not a P-256 public key.
   */
  importEcP256Spki(der: Uint8Array): EcKey;
  /** ES256 with a raw 64-byte R‖S signature, synchronously; the Web throws `ERR_SYNC_UNSUPPORTED`. */
  verifyEs256Sync(data: Uint8Array, signature: Uint8Array, key: EcKey): boolean;
  /** ES256 with a raw 64-byte R‖S signature. */
  verifyEs256(data: Uint8Array, signature: Uint8Array, key: EcKey): Promise<boolean>;

  /** `size` bytes from the platform's cryptographic random generator. */
  randomBytes(size: number): Uint8Array;
  /** Encode bytes as base64url without padding. */
  base64urlText(bytes: Uint8Array): string;
  /** SHA-256 of `data` (PKCE's S256 challenge). */
  sha256(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** HKDF-SHA256 (RFC 5869): 32 bytes from a secret, a salt and a purpose (`info`). */
  hkdfSha256(secret: Uint8Array, salt: Uint8Array, info: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** An AES-256-GCM key from its 32 raw bytes (Node: at once; the Web: the import starts). */
  importAesKey(raw: Uint8Array): AesKey;
  /** AES-256-GCM: the ciphertext followed by the 16-byte tag; `iv` is 12 random bytes. */
  sealAesGcm(
    key: AesKey,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>;
  /** The plaintext of {@link sealAesGcm}'s output, or `undefined` when the tag does not match. */
  openAesGcm(
    key: AesKey,
    iv: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;

  /** The HTTP client used when none is given (Node: `node:http(s)`, no undici load; Web: `fetch`). */
  readonly defaultFetch: typeof fetch;

  /** The channel called `name` (Node: `node:diagnostics_channel`; Web: an in-process registry). */
  channel(name: string): EventChannel;
  /** Listen on the channel called `name`. */
  subscribe(name: string, listener: EventListener): void;
  /** Stop listening; returns whether the listener was subscribed. */
  unsubscribe(name: string, listener: EventListener): boolean;

  /** Read a UTF-8 text file (JWKS snapshots); the Web throws `ERR_CONFIG_INVALID`: no file system. */
  readTextFileSync(path: string): string;
  /** Write a text file atomically (a reader never sees half of it); the Web rejects: no file system. */
  writeTextFileAtomic(path: string, text: string): Promise<void>;
}
