import { CognitoJwtError } from '../errors.ts';

// Node's decoder skips characters outside the alphabet, so the alphabet is checked first.
// Empty is allowed: an `alg: none` token has an empty signature, and its header check names the problem better.
const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Value of one base64url character (the alphabet has been checked already). */
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
export function decodeBase64url(segment: string, what: string): Buffer {
  if (!ALPHABET.test(segment)) {
    throw new CognitoJwtError(
      'ERR_TOKEN_MALFORMED',
      `the ${what} is not base64url (no padding, no whitespace)`,
    );
  }
  const rest = segment.length % 4;
  const unusedBits = rest === 2 ? 0x0f : rest === 3 ? 0x03 : 0;
  if (rest === 1 || (sextet(segment.charCodeAt(segment.length - 1)) & unusedBits) !== 0) {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${what} is not canonical base64url`);
  }
  return Buffer.from(segment, 'base64url');
}
