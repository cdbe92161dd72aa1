import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CognitoVerifier, TokenExpiredError } from '../../src/index.ts';
import { buildJwks, DEFAULT_TEST_POOL_ID, generateKeyPair, mintIdToken } from '../../src/testing/index.ts';
import { MAX_IAT_AHEAD_SECONDS } from '../../src/verify/claims.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';
import { noFetch } from '../helpers/no-fetch.ts';
import { signRaw } from '../helpers/raw-jwt.ts';

const key = generateKeyPair();
const NOW = 1_750_000_000; // seconds; the injected clock never moves
const issuer = `https://cognito-idp.us-east-1.amazonaws.com/${DEFAULT_TEST_POOL_ID}`;

function verifierAt(nowSeconds: number, clockToleranceSeconds?: number) {
  const network = noFetch();
  const verifier = new CognitoVerifier(
    {
      userPoolId: DEFAULT_TEST_POOL_ID,
      clientId: 'c1',
      tokenUse: 'id',
      jwks: buildJwks(key),
      ...(clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds }),
    },
    { clock: () => nowSeconds * 1000, fetch: network.fetch },
  );
  return verifier;
}

/** An ID token issued `NOW` with these time claims (`undefined` removes one). */
function tokenWith(claims: Record<string, unknown>): string {
  return mintIdToken({ key, clientId: 'c1', now: NOW * 1000, claims });
}

describe('exp', () => {
  const verifier = verifierAt(NOW);

  test('a token one second before exp is valid', async () => {
    const claims = await verifier.verify(tokenWith({ exp: NOW + 1 }));
    assert.equal(claims.exp, NOW + 1);
  });

  test('exp == now is expired (now < exp is required)', async () => {
    const error = await rejectsCode(verifier.verify(tokenWith({ exp: NOW })), 'ERR_TOKEN_EXPIRED', {
      claim: 'exp',
      status: 401,
      name: 'TokenExpiredError',
    });
    assert.ok(error instanceof TokenExpiredError);
    assert.equal(error.expiredAt.getTime(), NOW * 1000);
  });

  test('an expired token carries expiredAt and says how long ago', () => {
    const error = throwsCode(() => verifier.verifySync(tokenWith({ exp: NOW - 90 })), 'ERR_TOKEN_EXPIRED');
    assert.ok(error instanceof TokenExpiredError);
    assert.deepEqual(error.expiredAt, new Date((NOW - 90) * 1000));
    assert.match(
      error.message,
      new RegExp(`expired at ${new Date((NOW - 90) * 1000).toISOString()} \\(90 s ago\\)`),
    );
  });

  test('the clock is read per call (time passes for the same verifier)', () => {
    let now = NOW;
    const moving = new CognitoVerifier(
      { userPoolId: DEFAULT_TEST_POOL_ID, clientId: 'c1', tokenUse: 'id', jwks: buildJwks(key) },
      { clock: () => now * 1000, fetch: noFetch().fetch },
    );
    const token = tokenWith({ exp: NOW + 10 });
    assert.ok(moving.verifySync(token));
    now = NOW + 10;
    throwsCode(() => moving.verifySync(token), 'ERR_TOKEN_EXPIRED');
  });

  test('exp is required', () => {
    throwsCode(() => verifier.verifySync(tokenWith({ exp: undefined })), 'ERR_CLAIM_INVALID', {
      claim: 'exp',
      message: 'exp must be a number of seconds (it is required), found nothing',
    });
  });

  for (const exp of [`${NOW + 60}`, null, true, [NOW + 60], { at: NOW + 60 }]) {
    test(`exp ${JSON.stringify(exp)} is not a number`, () => {
      throwsCode(() => verifier.verifySync(tokenWith({ exp })), 'ERR_CLAIM_INVALID', { claim: 'exp' });
    });
  }

  test('exp must be finite: 1e400 parses to Infinity and is refused', () => {
    const token = signRaw(
      `{"alg":"RS256","kid":${JSON.stringify(key.kid)}}`,
      `{"sub":"u","iss":"${issuer}","aud":"c1","token_use":"id","iat":${NOW},"exp":1e400}`,
      key.privateKey,
    );
    assert.equal(JSON.parse('{"exp":1e400}').exp, Number.POSITIVE_INFINITY);
    throwsCode(() => verifier.verifySync(token), 'ERR_CLAIM_INVALID', { claim: 'exp' });
  });
});

describe('nbf', () => {
  const verifier = verifierAt(NOW);

  test('nbf == now is valid; nbf one second ahead is not yet valid', () => {
    assert.ok(verifier.verifySync(tokenWith({ nbf: NOW })));
    const error = throwsCode(
      () => verifier.verifySync(tokenWith({ nbf: NOW + 1 })),
      'ERR_TOKEN_NOT_YET_VALID',
      {
        claim: 'nbf',
        status: 401,
      },
    );
    assert.match(error.message, /not valid before .* \(1 s from now\)/);
  });

  for (const nbf of ['0', null, [0]]) {
    test(`nbf ${JSON.stringify(nbf)} is refused when present but not a number`, () => {
      throwsCode(() => verifier.verifySync(tokenWith({ nbf })), 'ERR_CLAIM_INVALID', { claim: 'nbf' });
    });
  }

  test('nbf 1e400 (Infinity) is refused as not finite', () => {
    const token = signRaw(
      `{"alg":"RS256","kid":${JSON.stringify(key.kid)}}`,
      `{"sub":"u","iss":"${issuer}","aud":"c1","token_use":"id","iat":${NOW},"exp":${NOW + 60},"nbf":-1e400}`,
      key.privateKey,
    );
    throwsCode(() => verifier.verifySync(token), 'ERR_CLAIM_INVALID', { claim: 'nbf' });
  });
});

describe('iat', () => {
  const verifier = verifierAt(NOW);

  test(`an iat up to ${MAX_IAT_AHEAD_SECONDS} s ahead is ordinary drift`, () => {
    assert.equal(MAX_IAT_AHEAD_SECONDS, 5 * 60);
    assert.ok(verifier.verifySync(tokenWith({ iat: NOW + 300 })));
  });

  test('an iat more than 5 minutes ahead is refused', () => {
    const error = throwsCode(
      () => verifier.verifySync(tokenWith({ iat: NOW + 301 })),
      'ERR_TOKEN_ISSUED_IN_FUTURE',
      {
        claim: 'iat',
        status: 401,
      },
    );
    assert.match(error.message, /301 s from now/);
    throwsCode(
      () => verifier.verifySync(tokenWith({ iat: NOW + 6 * 3600, exp: NOW + 7 * 3600 })),
      'ERR_TOKEN_ISSUED_IN_FUTURE',
    );
  });

  test('iat in the past is fine, however old (exp decides)', () => {
    assert.ok(verifier.verifySync(tokenWith({ iat: NOW - 86_400 * 365 })));
  });

  test('iat is optional but must be a finite number when present', () => {
    assert.ok(verifier.verifySync(tokenWith({ iat: undefined })));
    throwsCode(() => verifier.verifySync(tokenWith({ iat: `${NOW}` })), 'ERR_CLAIM_INVALID', {
      claim: 'iat',
    });
    const infinite = signRaw(
      `{"alg":"RS256","kid":${JSON.stringify(key.kid)}}`,
      `{"sub":"u","iss":"${issuer}","aud":"c1","token_use":"id","iat":1e999,"exp":${NOW + 60}}`,
      key.privateKey,
    );
    throwsCode(() => verifier.verifySync(infinite), 'ERR_CLAIM_INVALID', { claim: 'iat' });
  });
});

describe('numeric dates beyond what a Date can hold', () => {
  const verifier = verifierAt(NOW);
  const limit = 8.64e12; // seconds: new Date(limit * 1000) is the last valid Date

  for (const [claim, value] of [
    ['exp', -1e20],
    ['exp', 1e20],
    ['exp', limit + 1],
    ['nbf', 1e20],
    ['nbf', -1e20],
    ['iat', 1e20],
  ] as const) {
    test(`${claim} ${value} is an invalid claim, not a RangeError from formatting its date (regression)`, () => {
      throwsCode(() => verifier.verifySync(tokenWith({ [claim]: value })), 'ERR_CLAIM_INVALID', { claim });
    });
  }

  test('the last representable date still works, and is reported as a date', () => {
    assert.equal(verifier.verifySync(tokenWith({ exp: limit })).exp, limit);
    const error = throwsCode(
      () => verifier.verifySync(tokenWith({ nbf: limit, exp: limit })),
      'ERR_TOKEN_NOT_YET_VALID',
    );
    assert.match(error.message, /\+275760-09-13T00:00:00\.000Z/);
    throwsCode(() => verifier.verifySync(tokenWith({ exp: -limit })), 'ERR_TOKEN_EXPIRED');
  });
});

describe('clockToleranceSeconds', () => {
  const tolerant = verifierAt(NOW, 30);

  test('defaults to 0', () => {
    throwsCode(() => verifierAt(NOW).verifySync(tokenWith({ exp: NOW })), 'ERR_TOKEN_EXPIRED');
  });

  test('extends exp: 29 s past exp passes, 30 s past fails', () => {
    assert.ok(tolerant.verifySync(tokenWith({ exp: NOW - 29 })));
    throwsCode(() => tolerant.verifySync(tokenWith({ exp: NOW - 30 })), 'ERR_TOKEN_EXPIRED');
  });

  test('extends nbf: 30 s ahead passes, 31 s ahead fails', () => {
    assert.ok(tolerant.verifySync(tokenWith({ nbf: NOW + 30 })));
    throwsCode(() => tolerant.verifySync(tokenWith({ nbf: NOW + 31 })), 'ERR_TOKEN_NOT_YET_VALID');
  });

  test('extends the iat allowance: 5 min + 30 s passes, one more second fails', () => {
    assert.ok(tolerant.verifySync(tokenWith({ iat: NOW + 330 })));
    throwsCode(() => tolerant.verifySync(tokenWith({ iat: NOW + 331 })), 'ERR_TOKEN_ISSUED_IN_FUTURE');
  });

  test('at its cap of 300 s, a token expired 301 s ago is still refused', () => {
    const capped = verifierAt(NOW, 300);
    assert.ok(capped.verifySync(tokenWith({ exp: NOW - 299 })));
    throwsCode(() => capped.verifySync(tokenWith({ exp: NOW - 301 })), 'ERR_TOKEN_EXPIRED');
  });
});
