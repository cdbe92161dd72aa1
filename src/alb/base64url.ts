import { base64urlBytes } from '#platform';
import { CognitoJwtError } from '../errors.ts';

/**
 * Value of one base64url character, or -1 for anything else (`=` included: padding is counted
 * apart, and `+` `/` of standard base64 are refused, though Node's decoder reads them).
 */
function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  if (code === 45) return 62; // -
  if (code === 95) return 63; // _
  return -1;
}

function malformed(what: string, detail: string): CognitoJwtError {
  return new CognitoJwtError(
    'ERR_TOKEN_MALFORMED',
    `the ${what} is not base64url with padding as the load balancer writes it (${detail})`,
  );
}

/**
 * Decode one segment of an `x-amzn-oidc-data` token: base64url **with** `=` padding, in exactly
 * the one spelling an encoder produces. The length is a multiple of 4; `=` appears only at the
 * end, as many as the data needs (0, 1 or 2) and no more; every other character is in the
 * base64url alphabet; the bits past the data in the last character are zero. Any other text,
 * even one Node would decode to the same bytes, is refused, so a signed token has one spelling.
 *
 * ```ts
 * decodePaddedBase64url('eyJhbGciOiJFUzI1NiJ9', 'header'); // {"alg":"ES256"}
 * decodePaddedBase64url('YQ==', 'payload'); // "a"
 * ```
 */
export function decodePaddedBase64url(segment: string, what: string): Uint8Array {
  const length = segment.length;
  if (length === 0 || length % 4 !== 0) throw malformed(what, 'its length is not a multiple of 4');
  const padding = segment.charCodeAt(length - 1) === 61 ? (segment.charCodeAt(length - 2) === 61 ? 2 : 1) : 0;
  const dataLength = length - padding;
  for (let i = 0; i < dataLength; i++) {
    if (sextet(segment.charCodeAt(i)) === -1)
      throw malformed(what, `a character outside the alphabet at ${i}`);
  }
  // 2 padding characters leave 4 unused bits in the last data character, 1 leaves 2.
  const unusedBits = padding === 2 ? 0x0f : padding === 1 ? 0x03 : 0;
  if ((sextet(segment.charCodeAt(dataLength - 1)) & unusedBits) !== 0) {
    throw malformed(what, 'the last character has bits set past the data');
  }
  const bytes = base64urlBytes(segment);
  if (bytes.length !== (dataLength * 3) >>> 2) throw malformed(what, 'it does not decode whole');
  return bytes;
}
