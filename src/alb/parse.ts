import { asciiBytes } from '#platform';
import { CognitoJwtError } from '../errors.ts';
import { checkTokenText } from '../token/decode.ts';
import { parseJsonObject } from '../token/json.ts';
import { decodePaddedBase64url } from './base64url.ts';

/** Largest `x-amzn-oidc-data` accepted by default (characters). The load balancer caps it at 16 KiB. */
export const DEFAULT_MAX_ALB_TOKEN_LENGTH = 16 * 1024;

/** An `x-amzn-oidc-data` token split, decoded and parsed; nothing about it is trusted yet. */
export interface ParsedAlbToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The first two segments exactly as transmitted, padding included: what the signature covers. */
  signingInput: Uint8Array;
  signature: Uint8Array;
}

/**
 * Split and parse an `x-amzn-oidc-data` token: exactly 3 segments, each base64url with the
 * padding an encoder writes ({@link decodePaddedBase64url}); header and payload strict JSON objects
 * (valid UTF-8, no duplicate members, bounded depth). Nothing is verified here.
 *
 * ```ts
 * const { header, payload } = parseAlbToken(request.headers['x-amzn-oidc-data']);
 * ```
 */
export function parseAlbToken(token: unknown, maxLength = DEFAULT_MAX_ALB_TOKEN_LENGTH): ParsedAlbToken {
  checkTokenText(token, maxLength);
  const dot1 = token.indexOf('.');
  const dot2 = dot1 === -1 ? -1 : token.indexOf('.', dot1 + 1);
  if (dot2 === -1 || token.indexOf('.', dot2 + 1) !== -1) {
    throw new CognitoJwtError(
      'ERR_TOKEN_MALFORMED',
      `a load balancer token has 3 dot-separated parts, this one has ${token.split('.').length}`,
    );
  }
  const header = parseJsonObject(decodePaddedBase64url(token.slice(0, dot1), 'header'), 'header');
  const payload = parseJsonObject(decodePaddedBase64url(token.slice(dot1 + 1, dot2), 'payload'), 'payload');
  const signature = decodePaddedBase64url(token.slice(dot2 + 1), 'signature');
  return {
    header,
    payload,
    signingInput: asciiBytes(token.slice(0, dot2)), // checked to be base64url, '=' and dots
    signature,
  };
}
