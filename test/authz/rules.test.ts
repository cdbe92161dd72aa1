import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AuthzRule,
  anyOf,
  authorize,
  type CognitoAccessTokenClaims,
  type CognitoClaims,
  type CognitoIdTokenClaims,
  CognitoJwtError,
  CognitoVerifier,
  declareRule,
  defineRoles,
  groupsOf,
  readsRequest,
  requireGroups,
  requirePredicate,
  requireScopes,
  scopesOf,
} from '../../src/index.ts';
import { generateKeyPair, mintAccessToken, startJwksServer } from '../../src/testing/index.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';

function accessClaims(overrides: Partial<CognitoAccessTokenClaims> = {}): CognitoAccessTokenClaims {
  return {
    sub: 'user-1',
    iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example',
    exp: 2_000_000_000,
    iat: 1_900_000_000,
    token_use: 'access',
    client_id: 'client',
    username: 'ada',
    scope: 'openid orders/read',
    'cognito:groups': ['editors', 'readers'],
    ...overrides,
  };
}

const idClaims: CognitoIdTokenClaims = {
  sub: 'user-2',
  iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example',
  exp: 2_000_000_000,
  iat: 1_900_000_000,
  token_use: 'id',
  aud: 'client',
  'cognito:username': 'grace',
};

describe('groupsOf / scopesOf', () => {
  test('read the lists, empty when absent', () => {
    assert.deepEqual(groupsOf(accessClaims()), ['editors', 'readers']);
    assert.deepEqual(scopesOf(accessClaims()), ['openid', 'orders/read']);
    assert.deepEqual(groupsOf(idClaims), []);
    assert.deepEqual(scopesOf(idClaims), []);
    assert.deepEqual(scopesOf(accessClaims({ scope: ' a  b ' })), ['a', 'b']);
  });
});

describe('requireGroups', () => {
  test('any-of: one matching group is enough', async () => {
    await authorize(accessClaims(), [requireGroups(['admins', 'editors'])]);
    await authorize(accessClaims(), [requireGroups('readers')]);
  });

  test('any-of: none matching fails with ERR_GROUP_MISSING, 403, naming the groups', async () => {
    const error = await rejectsCode(
      authorize(accessClaims(), [requireGroups(['admins', 'owners'])]),
      'ERR_GROUP_MISSING',
      {
        status: 403,
        claim: 'cognito:groups',
      },
    );
    assert.match(error.message, /admins, owners/);
    assert.match(error.message, /its groups: editors, readers/);
  });

  test('a token in no group fails', async () => {
    await rejectsCode(authorize(idClaims, [requireGroups('admins')]), 'ERR_GROUP_MISSING', {
      message: 'its groups: none',
    });
  });

  test('all-of: every group is needed and the error names only the missing ones', async () => {
    await authorize(accessClaims(), [requireGroups(['editors', 'readers'], { match: 'all' })]);
    const error = await rejectsCode(
      authorize(accessClaims(), [requireGroups(['editors', 'admins', 'owners'], { match: 'all' })]),
      'ERR_GROUP_MISSING',
      { status: 403 },
    );
    assert.match(error.message, /lacks the required groups admins, owners \(all of editors, admins, owners/);
  });

  test('group names are matched exactly (no prefix, case or substring match)', async () => {
    for (const claimed of [['admin'], ['Admins'], ['admins '], ['xadmins']]) {
      await rejectsCode(
        authorize(accessClaims({ 'cognito:groups': claimed }), [requireGroups('admins')]),
        'ERR_GROUP_MISSING',
      );
    }
  });

  test('bad arguments fail at creation with ERR_CONFIG_INVALID', () => {
    throwsCode(() => requireGroups([]), 'ERR_CONFIG_INVALID');
    throwsCode(() => requireGroups(''), 'ERR_CONFIG_INVALID');
    throwsCode(() => requireGroups('admins editors'), 'ERR_CONFIG_INVALID', { message: 'whitespace' });
    throwsCode(() => requireGroups('admins', { match: 'some' as 'any' }), 'ERR_CONFIG_INVALID');
  });
});

describe('requireScopes', () => {
  test('any-of and all-of', async () => {
    await authorize(accessClaims(), [requireScopes(['orders/write', 'orders/read'])]);
    await authorize(accessClaims(), [requireScopes(['openid', 'orders/read'], { match: 'all' })]);
    const error = await rejectsCode(
      authorize(accessClaims(), [requireScopes(['orders/read', 'orders/write'], { match: 'all' })]),
      'ERR_SCOPE_MISSING',
      { status: 403, claim: 'scope' },
    );
    assert.match(error.message, /lacks the required scopes orders\/write/);
  });

  test('missing scope names what was wanted and what the token has', async () => {
    const error = await rejectsCode(
      authorize(accessClaims(), [requireScopes('orders/write')]),
      'ERR_SCOPE_MISSING',
    );
    assert.match(error.message, /orders\/write/);
    assert.match(error.message, /openid orders\/read/);
  });

  test('a scope is a whole word: "orders/read" does not grant "orders"', async () => {
    await rejectsCode(authorize(accessClaims(), [requireScopes('orders')]), 'ERR_SCOPE_MISSING');
    await rejectsCode(
      authorize(accessClaims({ scope: 'orders/readwrite' }), [requireScopes('orders/read')]),
      'ERR_SCOPE_MISSING',
    );
  });

  test('an ID token has no scopes', async () => {
    await rejectsCode(authorize(idClaims, [requireScopes('openid')]), 'ERR_SCOPE_MISSING', {
      message: 'none',
    });
  });
});

describe('requirePredicate', () => {
  interface Req {
    params: { owner: string };
  }

  test('passes the claims and the context; true allows', async () => {
    const seen: unknown[] = [];
    const owner = requirePredicate((claims: CognitoClaims, req: Req) => {
      seen.push(claims.sub, req.params.owner);
      return claims.sub === req.params.owner;
    }, 'owner');
    await authorize(accessClaims(), [owner], { params: { owner: 'user-1' } });
    assert.deepEqual(seen, ['user-1', 'user-1']);
    const error = await rejectsCode(
      authorize(accessClaims(), [owner], { params: { owner: 'user-9' } }),
      'ERR_FORBIDDEN',
      {
        status: 403,
      },
    );
    assert.match(error.message, /the rule "owner" does not allow this token/);
  });

  test('async predicates are awaited', async () => {
    const slowYes = requirePredicate(async () => true);
    const slowNo = requirePredicate(async () => false);
    await authorize(accessClaims(), [slowYes]);
    await rejectsCode(authorize(accessClaims(), [slowNo]), 'ERR_FORBIDDEN');
  });

  test('only true allows: truthy values and a forgotten return refuse', async () => {
    for (const value of [1, 'yes', {}, undefined]) {
      const sloppy = requirePredicate(() => value as unknown as boolean);
      await rejectsCode(authorize(accessClaims(), [sloppy]), 'ERR_FORBIDDEN');
    }
  });

  test('the predicate name describes the rule when no description is given', async () => {
    function sameTenant(): boolean {
      return false;
    }
    const error = await rejectsCode(
      authorize(accessClaims(), [requirePredicate(sameTenant)]),
      'ERR_FORBIDDEN',
    );
    assert.match(error.message, /"sameTenant"/);
  });

  test('an error thrown by the predicate propagates unchanged', async () => {
    const failure = new Error('database down');
    const rule = requirePredicate(() => {
      throw failure;
    });
    await assert.rejects(authorize(accessClaims(), [rule]), (error) => error === failure);
  });

  test('a non-function fails at creation', () => {
    throwsCode(() => requirePredicate('yes' as never), 'ERR_CONFIG_INVALID');
  });
});

describe('anyOf', () => {
  test('passes when one alternative passes', async () => {
    await authorize(accessClaims(), [anyOf(requireGroups('admins'), requireScopes('orders/read'))]);
  });

  test('when all refuse: ERR_FORBIDDEN listing every refusal', async () => {
    const error = await rejectsCode(
      authorize(accessClaims(), [anyOf(requireGroups('admins'), requireScopes('orders/write'))]),
      'ERR_FORBIDDEN',
      { status: 403 },
    );
    assert.match(error.message, /required groups \(admins\).*; or .*required scopes \(orders\/write\)/);
  });

  test('an error that is not a refusal is rethrown at once, even if a later alternative would pass', async () => {
    let laterRan = false;
    const failing: AuthzRule = () => {
      throw new CognitoJwtError('ERR_JWKS_FETCH_FAILED', 'keys unavailable');
    };
    const later: AuthzRule = () => {
      laterRan = true;
    };
    await rejectsCode(authorize(accessClaims(), [anyOf(failing, later)]), 'ERR_JWKS_FETCH_FAILED');
    assert.equal(laterRan, false);
  });

  test('needs at least one rule, and only rules', () => {
    throwsCode(() => anyOf(), 'ERR_CONFIG_INVALID');
    throwsCode(() => anyOf('admins' as never), 'ERR_CONFIG_INVALID');
  });
});

describe('readsRequest: what a rule declares about the request', () => {
  test('group, scope and role rules read the claims only', () => {
    assert.equal(readsRequest(requireGroups('admins')), false);
    assert.equal(readsRequest(requireGroups(['a', 'b'], { match: 'all' })), false);
    assert.equal(readsRequest(requireScopes('orders/read')), false);
    assert.equal(readsRequest(defineRoles({ admin: ['admins'] }).requireRole('admin')), false);
  });

  test('a predicate reads the request unless it declares readsRequest: false; a bare function reads it', () => {
    assert.equal(readsRequest(requirePredicate(() => true)), true);
    assert.equal(readsRequest(requirePredicate(() => true, 'described')), true);
    assert.equal(readsRequest(requirePredicate(() => true, { readsRequest: true })), true);
    assert.equal(readsRequest(requirePredicate(() => true, { readsRequest: false })), false);
    assert.equal(
      readsRequest(() => undefined),
      true,
    );
  });

  test('anyOf reads the request when any alternative may', () => {
    assert.equal(readsRequest(anyOf(requireGroups('a'), requireScopes('b'))), false);
    assert.equal(
      readsRequest(
        anyOf(
          requireGroups('a'),
          requirePredicate(() => true),
        ),
      ),
      true,
    );
  });

  test('declareRule flags a hand-written rule and freezes it', () => {
    const rule = declareRule(() => undefined, { readsRequest: false });
    assert.equal(readsRequest(rule), false);
    assert.ok(Object.isFrozen(rule));
    throwsCode(() => declareRule(() => undefined, {} as never), 'ERR_CONFIG_INVALID');
    throwsCode(() => declareRule('rule' as never, { readsRequest: false }), 'ERR_CONFIG_INVALID');
  });

  test('requirePredicate options: a description, the flag; misspellings and wrong types refused', async () => {
    const rule = requirePredicate(() => false, { description: 'own record', readsRequest: false });
    await rejectsCode(authorize(accessClaims(), [rule]), 'ERR_FORBIDDEN', { message: '"own record"' });
    throwsCode(() => requirePredicate(() => true, { readRequest: false } as never), 'ERR_CONFIG_INVALID', {
      message: 'did you mean "readsRequest"',
    });
    throwsCode(() => requirePredicate(() => true, { readsRequest: 'no' } as never), 'ERR_CONFIG_INVALID', {
      message: 'must be true or false, got a string',
    });
  });
});

describe('authorize', () => {
  test('runs every rule in order and stops at the first refusal', async () => {
    const ran: string[] = [];
    const mark =
      (name: string, pass: boolean): AuthzRule =>
      () => {
        ran.push(name);
        if (!pass) throw new CognitoJwtError('ERR_FORBIDDEN', name);
      };
    await rejectsCode(
      authorize(accessClaims(), [mark('a', true), mark('b', false), mark('c', true)]),
      'ERR_FORBIDDEN',
    );
    assert.deepEqual(ran, ['a', 'b']);
  });

  test('with no rules it allows', async () => {
    await authorize(accessClaims(), []);
  });

  test('refuses a list holding something that is not a rule', async () => {
    await rejectsCode(authorize(accessClaims(), [null as never]), 'ERR_CONFIG_INVALID');
  });

  test('over the claims of a real verified token', async () => {
    const key = generateKeyPair();
    const server = await startJwksServer({ keys: [key] });
    try {
      const issuer = server.issuer('local_pool1');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool1',
        issuer,
        clientId: 'c',
        tokenUse: 'access',
      });
      const claims = await verifier.verify(
        mintAccessToken({ key, issuer, clientId: 'c', groups: ['admins'], scope: 'orders/read' }),
      );
      await authorize(claims, [requireGroups('admins'), requireScopes('orders/read')]);
      await rejectsCode(authorize(claims, [requireScopes('orders/write')]), 'ERR_SCOPE_MISSING');
    } finally {
      await server.close();
    }
  });
});
