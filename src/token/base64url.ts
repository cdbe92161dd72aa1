import { base64urlBytes } from '#platform';
import { CognitoJwtError } from '../errors.ts';

/** Value of one base64url character (any other character has made the decoded length wrong). */
function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  return code === 45 ? 62 : 63; // '-' or '_'
}

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
  const unusedBits = rest === 2 ? 0x0f : rest === 3 ? 0x03 : 0;
  if ((sextet(segment.charCodeAt(segment.length - 1)) & unusedBits) !== 0) {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${what} is not canonical base64url`);
  }
  return bytes;
}
