import { type KeyObject, sign } from 'node:crypto';

/**
 * base64url of a text (as UTF-8) or of raw bytes.
 *
 * ```ts
 * base64url('{"alg":"RS256"}'); // 'eyJhbGciOiJSUzI1NiJ9'
 * ```
 */
export function base64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Sign a header and a payload given as raw JSON text (or bytes) with RS256, for inputs that
 * `JSON.stringify` cannot write: duplicate members, `1e400`, invalid UTF-8, deep nesting.
 *
 * ```ts
 * const token = signRaw('{"alg":"RS256","kid":"k"}', '{"exp":1e400}', key.privateKey);
 * ```
 */
export function signRaw(
  header: string | Uint8Array,
  payload: string | Uint8Array,
  privateKey: KeyObject,
): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/**
 * The three segments of a compact JWS.
 *
 * ```ts
 * const [header, payload, signature] = splitToken(token);
 * ```
 */
export function splitToken(token: string): [header: string, payload: string, signature: string] {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`expected 3 segments, got ${parts.length}`);
  return parts as [string, string, string];
}

/**
 * Change claims of a signed token and keep its original signature: a tampered token.
 *
 * ```ts
 * const forged = tamperPayload(token, { 'cognito:groups': ['admin'] });
 * ```
 */
export function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = splitToken(token);
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), ...changes };
  return `${header}.${base64url(JSON.stringify(claims))}.${signature}`;
}

/**
 * Flip one bit in the middle of the signature; the segment stays canonical base64url of the same length.
 *
 * ```ts
 * await verifier.verify(flipSignatureBit(token)); // ERR_SIGNATURE_INVALID
 * ```
 */
export function flipSignatureBit(token: string): string {
  const [header, payload, signature] = splitToken(token);
  const bytes = Buffer.from(signature, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}
