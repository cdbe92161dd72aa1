import type { ALBEvent, ALBResult } from 'aws-lambda';
import { CognitoJwtError, clientMessage } from '../errors.ts';
import type { AlbIdentity, AlbVerifier, HeaderSource } from './verifier.ts';

export type { ALBEvent, ALBResult } from 'aws-lambda';

/**
 * Verify the `x-amzn-oidc-*` headers of a Lambda target's ALB event. The event carries them in
 * `headers`, or in `multiValueHeaders` when the target group turns multi-value headers on.
 *
 * ```ts
 * export const handler = async (event: ALBEvent) => {
 *   const { claims } = await verifyAlbEvent(verifier, event);
 *   return { statusCode: 200, body: `hello ${claims.email}` };
 * };
 * ```
 */
export function verifyAlbEvent<Access = unknown>(
  verifier: AlbVerifier,
  event: ALBEvent,
): Promise<AlbIdentity<Access>> {
  const headers: HeaderSource = event.multiValueHeaders ?? event.headers ?? {};
  return verifier.verifyRequest<Access>(headers);
}

/**
 * The ALB result for a failed verification: the error's status and a JSON body with its code and
 * the fixed client-safe sentence (never the detailed message). Anything that is not a
 * `CognitoJwtError` is a 500 with no detail.
 *
 * ```ts
 * try { ... } catch (error) { return albErrorResult(error); }
 * ```
 */
export function albErrorResult(error: unknown): ALBResult {
  const known = error instanceof CognitoJwtError;
  const status = known ? error.status : 500;
  const body = known
    ? { error: error.code, message: clientMessage(error.code) }
    : { error: 'internal_error', message: 'the request could not be handled' };
  return {
    statusCode: status,
    statusDescription: `${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 503 ? 'Service Unavailable' : 'Error'}`,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/**
 * Wrap a Lambda target's handler: it runs only for events whose headers verify, with the
 * verified identity; other events get {@link albErrorResult}. Errors the handler throws propagate.
 *
 * ```ts
 * export const handler = withAlbIdentity(verifier, async (event, { claims }) => ({
 *   statusCode: 200,
 *   body: JSON.stringify({ sub: claims.sub }),
 * }));
 * ```
 */
export function withAlbIdentity<Access = unknown>(
  verifier: AlbVerifier,
  handler: (event: ALBEvent, identity: AlbIdentity<Access>) => Promise<ALBResult> | ALBResult,
): (event: ALBEvent) => Promise<ALBResult> {
  return async (event) => {
    let identity: AlbIdentity<Access>;
    try {
      identity = await verifyAlbEvent<Access>(verifier, event);
    } catch (error) {
      return albErrorResult(error);
    }
    return handler(event, identity);
  };
}
