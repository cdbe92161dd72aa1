import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeValue } from '../src/errors.ts';
import {
  CognitoJwtError,
  ConfigError,
  ERROR_STATUS,
  type ErrorCode,
  JwksFetchError,
  TokenExpiredError,
} from '../src/index.ts';

describe('the error codes', () => {
  test('cover every failure the issue names', () => {
    const required: ErrorCode[] = [
      'ERR_TOKEN_MALFORMED',
      'ERR_REFRESH_TOKEN_PRESENTED',
      'ERR_ALG_UNSUPPORTED',
      'ERR_KEY_NOT_FOUND',
      'ERR_KEY_INVALID',
      'ERR_SIGNATURE_INVALID',
      'ERR_TOKEN_EXPIRED',
      'ERR_TOKEN_NOT_YET_VALID',
      'ERR_TOKEN_ISSUED_IN_FUTURE',
      'ERR_ISSUER_MISMATCH',
      'ERR_CLIENT_MISMATCH',
      'ERR_TOKEN_USE_MISMATCH',
      'ERR_GROUP_MISSING',
      'ERR_SCOPE_MISSING',
      'ERR_JWKS_FETCH_FAILED',
      'ERR_JWKS_INVALID',
      'ERR_CONFIG_INVALID',
    ];
    for (const code of required) assert.ok(Object.hasOwn(ERROR_STATUS, code), code);
  });

  test('map to 401 for a bad token, 403 for a valid token lacking a right, 503 for keys unavailable', () => {
    const byStatus = (status: number) =>
      Object.entries(ERROR_STATUS)
        .filter(([code, value]) => value === status && !code.startsWith('ERR_OAUTH_'))
        .map(([code]) => code)
        .sort();
    assert.deepEqual(byStatus(403), [
      'ERR_CROSS_SITE_REQUEST',
      'ERR_FORBIDDEN',
      'ERR_GROUP_MISSING',
      'ERR_SCOPE_MISSING',
    ]);
    assert.deepEqual(byStatus(503), [
      'ERR_JWKS_FETCH_FAILED',
      'ERR_JWKS_INVALID',
      'ERR_KEYS_NOT_LOADED',
      'ERR_REVOCATION_UNAVAILABLE',
      'ERR_SESSION_STORE_UNAVAILABLE',
    ]);
    assert.deepEqual(byStatus(500), ['ERR_CONFIG_INVALID', 'ERR_SESSION_TOO_LARGE', 'ERR_SYNC_UNSUPPORTED']);
    for (const code of [
      'ERR_TOKEN_MALFORMED',
      'ERR_REFRESH_TOKEN_PRESENTED',
      'ERR_ALG_UNSUPPORTED',
      'ERR_HEADER_UNSUPPORTED',
      'ERR_KEY_NOT_FOUND',
      'ERR_KEY_INVALID',
      'ERR_KID_COOLDOWN',
      'ERR_SIGNATURE_INVALID',
      'ERR_TOKEN_EXPIRED',
      'ERR_TOKEN_NOT_YET_VALID',
      'ERR_TOKEN_ISSUED_IN_FUTURE',
      'ERR_CLAIM_INVALID',
      'ERR_ISSUER_MISMATCH',
      'ERR_CLIENT_MISMATCH',
      'ERR_TOKEN_USE_MISMATCH',
    ] as const) {
      assert.equal(ERROR_STATUS[code], 401, code);
    }
  });

  test('are upper-case ERR_ strings, each with an HTTP error status', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      assert.match(code, /^ERR_[A-Z0-9_]+$/);
      assert.ok(Number.isInteger(status) && status >= 400 && status < 600, code);
    }
  });
});

describe('CognitoJwtError', () => {
  test('carries code, status, claim, name and cause', () => {
    const cause = new Error('root');
    const error = new CognitoJwtError('ERR_CLIENT_MISMATCH', 'aud "x" is not an allowed client', {
      claim: 'aud',
      cause,
    });
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'CognitoJwtError');
    assert.equal(error.code, 'ERR_CLIENT_MISMATCH');
    assert.equal(error.status, 401);
    assert.equal(error.claim, 'aud');
    assert.equal(error.cause, cause);
    assert.equal(error.message, 'aud "x" is not an allowed client');
    assert.match(String(error), /^CognitoJwtError: aud "x"/);
    assert.ok(error.stack?.includes('errors.test.ts'));
  });

  test('without a cause has no cause property, and without a claim an undefined claim', () => {
    const error = new CognitoJwtError('ERR_SIGNATURE_INVALID', 'no');
    assert.equal(Object.hasOwn(error, 'cause'), false);
    assert.equal(error.claim, undefined);
    assert.equal(error.status, 401);
  });

  test('the name of a subclass is the subclass name, including a user-defined one', () => {
    class RevokedError extends CognitoJwtError {
      constructor() {
        super('ERR_TOKEN_REVOKED', 'revoked');
      }
    }
    const error = new RevokedError();
    assert.equal(error.name, 'RevokedError');
    assert.ok(error instanceof CognitoJwtError);
    assert.equal(error.status, 401);
  });

  test('switch (err.code) narrows to the union (a compile-time check that also runs)', () => {
    const describe = (error: CognitoJwtError): string => {
      switch (error.code) {
        case 'ERR_TOKEN_EXPIRED':
          return 'refresh';
        case 'ERR_GROUP_MISSING':
        case 'ERR_SCOPE_MISSING':
          return 'forbidden';
        default: {
          const code: Exclude<ErrorCode, 'ERR_TOKEN_EXPIRED' | 'ERR_GROUP_MISSING' | 'ERR_SCOPE_MISSING'> =
            error.code;
          return code;
        }
      }
    };
    assert.equal(describe(new TokenExpiredError(1, 2)), 'refresh');
    assert.equal(describe(new CognitoJwtError('ERR_SCOPE_MISSING', 'x')), 'forbidden');
    assert.equal(describe(new ConfigError('x')), 'ERR_CONFIG_INVALID');
  });
});

describe('the subclasses', () => {
  test('TokenExpiredError: ERR_TOKEN_EXPIRED on exp, with expiredAt and how long ago', () => {
    const error = new TokenExpiredError(1_700_000_000, 1_700_000_042.4);
    assert.ok(error instanceof CognitoJwtError);
    assert.equal(error.name, 'TokenExpiredError');
    assert.equal(error.code, 'ERR_TOKEN_EXPIRED');
    assert.equal(error.status, 401);
    assert.equal(error.claim, 'exp');
    assert.deepEqual(error.expiredAt, new Date(1_700_000_000_000));
    assert.equal(error.message, 'token expired at 2023-11-14T22:13:20.000Z (42 s ago)');
  });

  test('ConfigError: ERR_CONFIG_INVALID, 500, with its cause', () => {
    const cause = new TypeError('bad');
    const error = new ConfigError('userPoolId must look like "us-east-1_AbC123"', { cause });
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.code, 'ERR_CONFIG_INVALID');
    assert.equal(error.status, 500);
    assert.equal(error.cause, cause);
  });

  test('JwksFetchError: ERR_JWKS_FETCH_FAILED, 503, with the HTTP status the endpoint answered', () => {
    const error = new JwksFetchError('https://example.com/jwks.json', 'HTTP 500', { httpStatus: 500 });
    assert.ok(error instanceof CognitoJwtError);
    assert.equal(error.name, 'JwksFetchError');
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
    assert.equal(error.status, 503);
    assert.equal(error.httpStatus, 500);
    assert.match(error.message, /https:\/\/example\.com\/jwks\.json: HTTP 500/);
  });
});

describe('describeValue: untrusted values in messages, briefly', () => {
  test('says what a value is without echoing it at length', () => {
    assert.equal(describeValue(undefined), 'nothing');
    assert.equal(describeValue(null), 'null');
    assert.equal(describeValue('RS512'), '"RS512"');
    assert.equal(describeValue('a"b'), '"a\\"b"');
    assert.equal(describeValue(42), '42');
    assert.equal(describeValue(false), 'false');
    assert.equal(describeValue([1, 2, 3]), 'an array of 3');
    assert.equal(describeValue({ a: 1 }), 'an object');
    assert.equal(
      describeValue(() => 1),
      'function',
    );
    assert.equal(describeValue(10n), 'bigint');
    assert.equal(describeValue(Symbol('s')), 'symbol');
  });

  test('cuts strings over 64 characters to 61 and an ellipsis', () => {
    assert.equal(describeValue('x'.repeat(64)), `"${'x'.repeat(64)}"`);
    const long = describeValue('y'.repeat(5000));
    assert.equal(long, `"${'y'.repeat(61)}..."`);
  });

  test('escapes control characters, so a value cannot forge a log line', () => {
    assert.equal(describeValue('a\nERROR forged'), '"a\\nERROR forged"');
  });
});
