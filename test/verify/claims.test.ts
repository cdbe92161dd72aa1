import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CognitoVerifier, type VerifierConfig } from '../../src/index.ts';
import {
  buildJwks,
  DEFAULT_TEST_POOL_ID,
  generateKeyPair,
  mintAccessToken,
  mintClientCredentialsToken,
  mintIdToken,
} from '../../src/testing/index.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { noFetch } from '../helpers/no-fetch.ts';

const key = generateKeyPair();
const jwks = buildJwks(key);

/** A verifier of the test pool whose keys come from a snapshot; it may not touch the network. */
function verifier(config: Omit<VerifierConfig, 'userPoolId' | 'jwks'>): CognitoVerifier {
  const full: VerifierConfig = { userPoolId: DEFAULT_TEST_POOL_ID, jwks, ...config };
  return new CognitoVerifier(full, { fetch: noFetch().fetch });
}

const id = (options: Partial<Parameters<typeof mintIdToken>[0]> = {}) =>
  mintIdToken({ key, clientId: 'c1', ...options });
const access = (options: Partial<Parameters<typeof mintAccessToken>[0]> = {}) =>
  mintAccessToken({ key, clientId: 'c1', ...options });

describe('token_use', () => {
  test('an access token where an ID token is expected is refused, and the reverse', () => {
    const idOnly = verifier({ clientId: 'c1', tokenUse: 'id' });
    const accessOnly = verifier({ clientId: 'c1', tokenUse: 'access' });
    assert.equal(idOnly.verifySync(id()).token_use, 'id');
    assert.equal(accessOnly.verifySync(access()).token_use, 'access');
    const error = throwsCode(() => idOnly.verifySync(access()), 'ERR_TOKEN_USE_MISMATCH', {
      claim: 'token_use',
      status: 401,
    });
    assert.equal(error.message, 'expected an ID token, found an access token');
    throwsCode(() => accessOnly.verifySync(id()), 'ERR_TOKEN_USE_MISMATCH', {
      message: 'expected an access token, found an ID token',
    });
  });

  test('tokenUse null accepts both, each checked on its own client claim', () => {
    const either = verifier({ clientId: 'c1', tokenUse: null });
    assert.equal(either.verifySync(id()).token_use, 'id');
    assert.equal(either.verifySync(access()).token_use, 'access');
  });

  for (const tokenUse of [undefined, 'refresh', 'ID', '', null, ['id']]) {
    test(`token_use ${JSON.stringify(tokenUse)} is refused even with tokenUse null`, () => {
      const either = verifier({ clientId: null, tokenUse: null });
      throwsCode(() => either.verifySync(id({ claims: { token_use: tokenUse } })), 'ERR_TOKEN_USE_MISMATCH', {
        claim: 'token_use',
        message: 'token_use must be "id" or "access"',
      });
    });
  }
});

describe('the client: aud for ID tokens, client_id for access tokens', () => {
  test('an ID token for another client is refused on aud', () => {
    const error = throwsCode(
      () => verifier({ clientId: 'c1', tokenUse: 'id' }).verifySync(id({ clientId: 'c2' })),
      'ERR_CLIENT_MISMATCH',
      {
        claim: 'aud',
        status: 401,
      },
    );
    assert.equal(error.message, 'aud "c2" is not an allowed client (expected "c1")');
  });

  for (const aud of [['c1'], ['c1', 'c2'], undefined, 42, null, { c1: true }]) {
    test(`an ID token's aud must be a string: ${JSON.stringify(aud)} is refused`, () => {
      for (const clientId of ['c1', null]) {
        throwsCode(
          () => verifier({ clientId, tokenUse: 'id' }).verifySync(id({ claims: { aud } })),
          'ERR_CLAIM_INVALID',
          {
            claim: 'aud',
            message: 'aud must be a string',
          },
        );
      }
    });
  }

  test('an access token for another client is refused on client_id', () => {
    throwsCode(
      () => verifier({ clientId: 'c1', tokenUse: 'access' }).verifySync(access({ clientId: 'c2' })),
      'ERR_CLIENT_MISMATCH',
      {
        claim: 'client_id',
        message: 'client_id "c2" is not an allowed client',
      },
    );
  });

  test('an access token is judged on client_id only: a matching aud does not help', () => {
    const confused = access({ clientId: 'c2', claims: { aud: 'c1' } });
    throwsCode(
      () => verifier({ clientId: 'c1', tokenUse: null }).verifySync(confused),
      'ERR_CLIENT_MISMATCH',
      {
        claim: 'client_id',
      },
    );
  });

  test('an ID token is judged on aud only: a matching client_id does not help', () => {
    const confused = id({ clientId: 'c2', claims: { client_id: 'c1' } });
    throwsCode(
      () => verifier({ clientId: 'c1', tokenUse: null }).verifySync(confused),
      'ERR_CLIENT_MISMATCH',
      { claim: 'aud' },
    );
  });

  for (const clientId of [undefined, ['c1'], 7]) {
    test(`an access token's client_id must be a string: ${JSON.stringify(clientId)} is refused`, () => {
      throwsCode(
        () =>
          verifier({ clientId: null, tokenUse: 'access' }).verifySync(
            access({ claims: { client_id: clientId } }),
          ),
        'ERR_CLAIM_INVALID',
        { claim: 'client_id' },
      );
    });
  }

  test('clientId as a list accepts any of its clients', () => {
    const listed = verifier({ clientId: ['c1', 'c2'], tokenUse: null });
    assert.equal(listed.verifySync(id({ clientId: 'c2' })).aud, 'c2');
    assert.equal(listed.verifySync(access({ clientId: 'c1' })).client_id, 'c1');
    throwsCode(() => listed.verifySync(id({ clientId: 'c3' })), 'ERR_CLIENT_MISMATCH', {
      message: '(expected "c1" or "c2")',
    });
  });

  test('client ids match exactly (no prefix, case or whitespace tolerance)', () => {
    const exact = verifier({ clientId: 'c1', tokenUse: 'id' });
    for (const near of ['c10', 'C1', ' c1', 'c1 ', 'c']) {
      throwsCode(() => exact.verifySync(id({ clientId: near })), 'ERR_CLIENT_MISMATCH');
    }
  });

  test('clientId null accepts any client, but the client claim must still be a string', () => {
    const anyClient = verifier({ clientId: null, tokenUse: null });
    assert.equal(anyClient.verifySync(id({ clientId: 'whoever' })).aud, 'whoever');
    assert.equal(anyClient.verifySync(access({ clientId: 'whoever' })).client_id, 'whoever');
  });
});

describe('sub', () => {
  for (const sub of [undefined, '', 42, null]) {
    test(`sub ${JSON.stringify(sub)} is refused`, () => {
      throwsCode(
        () => verifier({ clientId: 'c1', tokenUse: 'id' }).verifySync(id({ claims: { sub } })),
        'ERR_CLAIM_INVALID',
        {
          claim: 'sub',
        },
      );
    });
  }
});

describe('groups (any-of against cognito:groups)', () => {
  const admins = verifier({ clientId: 'c1', tokenUse: null, groups: ['admin', 'ops'] });

  test('one matching group is enough, on ID and access tokens', () => {
    assert.deepEqual(admins.verifySync(id({ groups: ['users', 'ops'] }))['cognito:groups'], ['users', 'ops']);
    assert.ok(admins.verifySync(access({ groups: ['admin'] })));
    assert.ok(
      verifier({ clientId: 'c1', tokenUse: 'id', groups: 'admin' }).verifySync(id({ groups: ['admin'] })),
    );
  });

  test('none of the groups is a 403 that names the required and the present groups', () => {
    const error = throwsCode(() => admins.verifySync(id({ groups: ['users'] })), 'ERR_GROUP_MISSING', {
      status: 403,
      claim: 'cognito:groups',
    });
    assert.equal(error.message, 'token is in none of the required groups (admin, ops); its groups: users');
  });

  test('no cognito:groups claim at all is a 403 too', () => {
    throwsCode(() => admins.verifySync(id()), 'ERR_GROUP_MISSING', {
      status: 403,
      message: 'its groups: none',
    });
  });

  test('group names match exactly', () => {
    for (const near of ['Admin', 'admins', 'admin ', 'adm']) {
      throwsCode(() => admins.verifySync(id({ groups: [near] })), 'ERR_GROUP_MISSING');
    }
  });

  for (const groups of ['admin', [1], ['admin', 2], { 0: 'admin' }, null]) {
    test(`cognito:groups ${JSON.stringify(groups)} is the wrong type (401), with or without a groups rule`, () => {
      throwsCode(() => admins.verifySync(id({ claims: { 'cognito:groups': groups } })), 'ERR_CLAIM_INVALID', {
        claim: 'cognito:groups',
        status: 401,
      });
      throwsCode(
        () =>
          verifier({ clientId: 'c1', tokenUse: 'id' }).verifySync(
            id({ claims: { 'cognito:groups': groups } }),
          ),
        'ERR_CLAIM_INVALID',
        { claim: 'cognito:groups' },
      );
    });
  }
});

describe('scopes (any-of against the space-separated scope)', () => {
  const readers = verifier({ clientId: 'c1', tokenUse: 'access', scopes: ['orders/read', 'orders/admin'] });

  test('one matching scope is enough', () => {
    assert.equal(
      readers.verifySync(access({ scope: 'openid orders/read email' })).scope,
      'openid orders/read email',
    );
    assert.ok(readers.verifySync(mintClientCredentialsToken({ key, clientId: 'c1', scope: 'orders/admin' })));
  });

  test('none of the scopes is a 403 that names them', () => {
    const error = throwsCode(
      () => readers.verifySync(access({ scope: 'openid orders/write' })),
      'ERR_SCOPE_MISSING',
      {
        status: 403,
        claim: 'scope',
      },
    );
    assert.equal(
      error.message,
      'token has none of the required scopes (orders/read, orders/admin); its scopes: openid orders/write',
    );
  });

  test('scopes match whole words only', () => {
    for (const scope of [
      'orders/read:all',
      'orders/readonly',
      'xorders/read',
      'orders/read/x',
      'ORDERS/READ',
    ]) {
      throwsCode(() => readers.verifySync(access({ scope })), 'ERR_SCOPE_MISSING');
    }
  });

  test('no scope claim (an ID token) is a 403 where scopes are required', () => {
    const either = verifier({ clientId: 'c1', tokenUse: null, scopes: 'orders/read' });
    throwsCode(() => either.verifySync(id()), 'ERR_SCOPE_MISSING', { message: 'its scopes: none' });
  });

  for (const scope of [['orders/read'], 42, null]) {
    test(`scope ${JSON.stringify(scope)} is the wrong type (401)`, () => {
      throwsCode(() => readers.verifySync(access({ claims: { scope } })), 'ERR_CLAIM_INVALID', {
        claim: 'scope',
        status: 401,
      });
    });
  }
});

describe('the types Cognito fixes for the other claims (checked when present, after the signature)', () => {
  const either = () => verifier({ clientId: 'c1', tokenUse: null });
  const cases: { claim: string; good: unknown; bad: unknown[]; expected: string; mint?: typeof id }[] = [
    { claim: 'jti', good: 'a1b2', bad: [42, null, ['a'], {}], expected: 'jti must be a string' },
    { claim: 'origin_jti', good: 'o-1', bad: [1, true, ['o']], expected: 'origin_jti must be a string' },
    { claim: 'event_id', good: 'e-1', bad: [0, null, { id: 'e' }], expected: 'event_id must be a string' },
    {
      claim: 'username',
      good: 'alice',
      bad: [7, ['alice'], false],
      expected: 'username must be a string',
      mint: access,
    },
    {
      claim: 'cognito:username',
      good: 'alice',
      bad: [7, null, ['alice']],
      expected: 'cognito:username must be a string',
    },
    {
      claim: 'cognito:preferred_role',
      good: 'arn:aws:iam::123456789012:role/admin',
      bad: [1, ['arn:aws:iam::123456789012:role/admin'], null],
      expected: 'cognito:preferred_role must be a string',
    },
    {
      claim: 'auth_time',
      good: 1_700_000_000,
      bad: ['1700000000', null, [1], 9e15, -9e15],
      expected: 'auth_time must be a number of seconds',
    },
    {
      claim: 'cognito:roles',
      good: ['arn:aws:iam::123456789012:role/a'],
      bad: ['arn:x', [1], ['a', null], { 0: 'a' }],
      expected: 'cognito:roles must be an array of strings',
    },
    {
      claim: 'amr',
      good: ['pwd', 'mfa'],
      bad: ['pwd', [1], [['pwd']], null],
      expected: 'amr must be an array of strings',
    },
  ];
  for (const { claim, good, bad, expected, mint = id } of cases) {
    test(`${claim}: ${JSON.stringify(good)} passes, ${bad.map((value) => JSON.stringify(value) ?? String(value)).join(', ')} are ERR_CLAIM_INVALID naming ${claim}`, () => {
      assert.deepEqual(either().verifySync(mint({ claims: { [claim]: good } }))[claim], good);
      for (const value of bad) {
        throwsCode(() => either().verifySync(mint({ claims: { [claim]: value } })), 'ERR_CLAIM_INVALID', {
          claim,
          status: 401,
          message: expected,
        });
      }
    });
  }

  test('a wrong type is checked only after the signature: an unsigned change is a signature error', () => {
    const token = id();
    const [header, , signature] = token.split('.');
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const bent = Buffer.from(JSON.stringify({ ...payload, jti: 42 })).toString('base64url');
    throwsCode(() => either().verifySync(`${header}.${bent}.${signature}`), 'ERR_SIGNATURE_INVALID');
  });
});

describe('the verified claims', () => {
  test('come back as the token carried them, custom claims included', () => {
    const token = mintIdToken({
      key,
      clientId: 'c1',
      sub: '2f1d-uuid',
      username: 'alice',
      groups: ['admin'],
      claims: { 'custom:tenant': 't-1', email: 'alice@example.com' },
    });
    const claims = verifier({ clientId: 'c1', tokenUse: 'id' }).verifySync(token);
    assert.equal(claims.sub, '2f1d-uuid');
    assert.equal(claims['cognito:username'], 'alice');
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims['custom:tenant'], 't-1');
    assert.equal(typeof claims.jti, 'string');
    assert.equal(typeof claims.origin_jti, 'string');
  });

  test('of a client-credentials token need no username or groups', () => {
    const m2m = verifier({ clientId: 'svc', tokenUse: 'access' }).verifySync(
      mintClientCredentialsToken({ key, clientId: 'svc' }),
    );
    assert.equal(m2m.sub, 'svc');
    assert.equal(m2m.username, undefined);
    assert.equal(m2m['cognito:groups'], undefined);
  });
});
