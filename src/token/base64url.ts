import { base64urlBytes } from '#platform';
import { CognitoJwtError } from '../errors.ts';

/**
 * Decode one base64url segment strictly: no padding, no whitespace, canonical last character.
 * A non-canonical last character would let two texts decode to the same bytes (a malleable signature).
 */
export function decodeBase64url(segment: string, what: string): Uint8Array {
  // Empty is allowed: an `alg: none` token has an empty signature, and its header check names the problem better.
  const bytes = base64urlBytes(segment);
  // Node's decoder skips characters outside its alphabet and stops at '=', either of which makes
  // the output shorter than the length implies; it also reads '+' and '/' as '-' and '_'. Checking
  // that costs a fraction of a regular expression over the segment.
  const rest = segment.length % 4; // 1 is a length no encoder produces
  if (
    rest === 1 ||
    bytes.length !== (segment.length * 3) >>> 2 ||
    segment.includes('+') ||
    segment.includes('/')
  ) {
    throw new CognitoJwtError(
      'ERR_TOKEN_MALFORMED',
      `the ${what} is not base64url (no padding, no whitespace)`,
    );
  }
  // The last character's unused low bits must be zero: after 2 characters of a group its value is
  // a multiple of 16, after 3 a multiple of 4.
  const last = segment.charAt(segment.length - 1);
  if ((rest === 2 && !'AQgw'.includes(last)) || (rest === 3 && !'AEIMQUYcgkosw048'.includes(last))) {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${what} is not canonical base64url`);
  }
  return bytes;
}
