import assert from 'node:assert/strict';
import { CognitoJwtError, type ErrorCode } from '../../src/errors.ts';

/** Fields of a {@link CognitoJwtError} a test may pin besides its code. */
export interface ExpectedError {
  claim?: string | undefined;
  status?: number;
  name?: string;
  /** A fragment the message must contain. */
  message?: string | RegExp;
}

function check(caught: unknown, code: ErrorCode, expected: ExpectedError): CognitoJwtError {
  assert.ok(
    caught instanceof CognitoJwtError,
    `expected a CognitoJwtError with code ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`,
  );
  assert.equal(caught.code, code, `wrong code; message: ${caught.message}`);
  if ('claim' in expected) assert.equal(caught.claim, expected.claim, 'claim');
  if (expected.status !== undefined) assert.equal(caught.status, expected.status, 'status');
  if (expected.name !== undefined) assert.equal(caught.name, expected.name, 'name');
  if (typeof expected.message === 'string')
    assert.ok(caught.message.includes(expected.message), caught.message);
  else if (expected.message) assert.match(caught.message, expected.message);
  return caught;
}

/**
 * Assert that `fn` throws a {@link CognitoJwtError} with this code (and fields); returns the error.
 *
 * ```ts
 * throwsCode(() => decodeUnverified('a.b'), 'ERR_TOKEN_MALFORMED');
 * ```
 */
export function throwsCode(
  fn: () => unknown,
  code: ErrorCode,
  expected: ExpectedError = {},
): CognitoJwtError {
  let caught: unknown = new Error('it did not throw');
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  return check(caught, code, expected);
}

/**
 * Assert that `promise` rejects with a {@link CognitoJwtError} with this code (and fields); returns the error.
 *
 * ```ts
 * await rejectsCode(verifier.verify(expired), 'ERR_TOKEN_EXPIRED', { claim: 'exp' });
 * ```
 */
export async function rejectsCode(
  promise: Promise<unknown>,
  code: ErrorCode,
  expected: ExpectedError = {},
): Promise<CognitoJwtError> {
  let caught: unknown = new Error('it resolved');
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  return check(caught, code, expected);
}

/**
 * Assert that a Lambda authorizer rejected with exactly `Error('Unauthorized')`: the one error
 * message API Gateway answers with a 401 (a CognitoJwtError would be a 500).
 */
export async function rejectsUnauthorized(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Error && !(error instanceof CognitoJwtError));
    assert.equal(error.message, 'Unauthorized');
    return true;
  });
}
