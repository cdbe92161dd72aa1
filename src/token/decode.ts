import { asciiBytes } from '#platform';
import { CognitoJwtError } from '../errors.ts';
import { checkNumber, checkOptions, optionKeys } from '../options.ts';
import { firstForeignChar } from './alphabet.ts';
import { decodeBase64url } from './base64url.ts';
import type { CognitoClaims, DecodedToken, JwtHeader } from './claims.ts';
import { parseJsonObject } from './json.ts';

/** Largest token accepted by default (characters). Cognito tokens are 1-4 KiB. */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024;

/** A JWS split, decoded and parsed; nothing about it is trusted yet. */
export interface ParsedToken extends DecodedToken {
  /** The header as written (base64url): a verifier remembers the few its pools use. */
  headerSegment: string;
  /** `header.payload` as ASCII bytes: what the signature covers. */
  signingInput: Uint8Array;
  signature: Uint8Array;
}

/**
 * Throw ERR_TOKEN_MALFORMED unless `token` is a non-empty string of at most `maxLength`
 * characters: the first check of every token parser, before any work that grows with its length.
 */
export function checkTokenText(token: unknown, maxLength: number): asserts token is string {
  if (typeof token !== 'string') {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the token must be a string, got ${typeof token}`);
  }
  if (token.length === 0) throw new CognitoJwtError('ERR_TOKEN_MALFORMED', 'the token is empty');
  if (token.length > maxLength) {
    throw new CognitoJwtError(
      'ERR_TOKEN_MALFORMED',
      `the token is ${token.length} characters long, more than the limit of ${maxLength}`,
    );
  }
}

/**
 * Split and parse a compact JWS. Strict: a string of exactly 3 base64url segments, within the
 * length limit, whose header and payload are JSON objects. A 5-segment JWE gets its own error:
 * Cognito refresh tokens are JWEs, and users paste them where an ID or access token belongs.
 * `knownHeaders` holds headers parsed before, by their segment: a pool signs with two or three
 * headers, so a verifier parses each once.
 */
export function parseToken(
  token: unknown,
  maxLength = DEFAULT_MAX_TOKEN_LENGTH,
  knownHeaders?: ReadonlyMap<string, JwtHeader>,
): ParsedToken {
  checkTokenText(token, maxLength);
  // One spelling per token: no decoder ever sees a character outside base64url and '.'.
  const foreign = firstForeignChar(token);
  if (foreign !== -1) throw foreignCharacter(token, foreign);
  const dot1 = token.indexOf('.');
  const dot2 = dot1 === -1 ? -1 : token.indexOf('.', dot1 + 1);
  if (dot2 === -1 || token.indexOf('.', dot2 + 1) !== -1) throw wrongSegmentCount(token);

  const headerSegment = token.slice(0, dot1);
  const header =
    knownHeaders?.get(headerSegment) ?? parseJsonObject(decodeBase64url(headerSegment, 'header'), 'header');
  const payload = parseJsonObject(decodeBase64url(token.slice(dot1 + 1, dot2), 'payload'), 'payload');
  const signature = decodeBase64url(token.slice(dot2 + 1), 'signature');
  return {
    headerSegment,
    header,
    payload,
    signingInput: asciiBytes(token.slice(0, dot2)), // checked to be base64url and dots by now
    signature,
  };
}

const SEGMENT_NAMES = ['header', 'payload', 'signature'];

/** The error for a character outside base64url and '.', naming the usual mistake when it is one. */
function foreignCharacter(token: string, at: number): CognitoJwtError {
  if (/^bearer\s/i.test(token)) {
    return new CognitoJwtError(
      'ERR_TOKEN_MALFORMED',
      'the token starts with "Bearer ": pass the token alone, without the "Bearer " prefix',
    );
  }
  const segments = token.split('.').length;
  if (segments !== 3) return wrongSegmentCount(token);
  const segment = SEGMENT_NAMES[token.slice(0, at).split('.').length - 1];
  const code = token.codePointAt(at)!.toString(16).toUpperCase().padStart(4, '0');
  return new CognitoJwtError(
    'ERR_TOKEN_MALFORMED',
    `the ${segment} is not base64url (no padding, no whitespace): U+${code} at character ${at} of the token`,
  );
}

function wrongSegmentCount(token: string): CognitoJwtError {
  const segments = token.split('.').length;
  if (segments === 5) {
    return new CognitoJwtError(
      'ERR_REFRESH_TOKEN_PRESENTED',
      'this looks like a refresh token (an encrypted 5-part JWE): refresh tokens cannot be verified, ' +
        "exchange it for new tokens at the user pool's /oauth2/token endpoint",
    );
  }
  return new CognitoJwtError(
    'ERR_TOKEN_MALFORMED',
    `a JWT has 3 dot-separated parts, this token has ${segments}`,
  );
}

export interface DecodeOptions {
  /** Largest token accepted (characters); default 16 KiB. */
  maxTokenLength?: number;
}

/**
 * Decode a token **without verifying it**, for logging and debugging. Never authorize on the result.
 *
 * ```ts
 * const { header, payload } = decodeUnverified(token);
 * console.log(header.kid, payload.token_use, payload.exp);
 * ```
 */
export function decodeUnverified<Payload = Partial<CognitoClaims>>(
  token: string,
  options: DecodeOptions = {},
): DecodedToken<Payload> {
  checkOptions(DECODE_OPTIONS, options);
  const { header, payload } = parseToken(token, checkMaxTokenLength(options.maxTokenLength));
  return { header: header as JwtHeader, payload: payload as Payload };
}

// Pure: a bundle that verifies but never decodes unverified drops it.
const DECODE_OPTIONS = /* @__PURE__ */ optionKeys<DecodeOptions>('decodeUnverified options', {
  maxTokenLength: true,
});

export function checkMaxTokenLength(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_TOKEN_LENGTH;
  return checkNumber('maxTokenLength', value, { integer: true, min: 64, max: 1024 * 1024 });
}
