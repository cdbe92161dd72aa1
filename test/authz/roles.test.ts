import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorize, type CognitoAccessTokenClaims, defineRoles } from '../../src/index.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';

function withGroups(groups?: string[]): CognitoAccessTokenClaims {
  return {
    sub: 'user-1',
    iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example',
    exp: 2_000_000_000,
    iat: 1_900_000_000,
    token_use: 'access',
    client_id: 'client',
    ...(groups ? { 'cognito:groups': groups } : {}),
  };
}

const roles = defineRoles({ admin: ['admins'], editor: ['editors', 'admins'], auditor: 'auditors' });

test('hasRole and rolesOf follow the map', () => {
  assert.equal(roles.hasRole(withGroups(['admins']), 'editor'), true);
  assert.equal(roles.hasRole(withGroups(['editors']), 'admin'), false);
  assert.deepEqual(roles.rolesOf(withGroups(['admins'])), ['admin', 'editor']);
  assert.deepEqual(roles.rolesOf(withGroups(['editors', 'auditors'])), ['editor', 'auditor']);
  assert.deepEqual(roles.rolesOf(withGroups()), []);
  assert.deepEqual(roles.names, ['admin', 'editor', 'auditor']);
});

test('requireRole passes for any group granting one of the roles', async () => {
  await authorize(withGroups(['editors']), [roles.requireRole('editor')]);
  await authorize(withGroups(['auditors']), [roles.requireRole('admin', 'auditor')]);
});

test('requireRole refuses with ERR_GROUP_MISSING (403) naming the groups that would grant it', async () => {
  const error = await rejectsCode(
    authorize(withGroups(['readers']), [roles.requireRole('editor')]),
    'ERR_GROUP_MISSING',
    {
      status: 403,
    },
  );
  assert.match(error.message, /editors, admins/);
});

test('unknown roles and empty maps fail at creation', () => {
  throwsCode(() => roles.requireRole('owner' as never), 'ERR_CONFIG_INVALID', {
    message: 'unknown role "owner"',
  });
  throwsCode(() => roles.requireRole(), 'ERR_CONFIG_INVALID');
  throwsCode(() => defineRoles({}), 'ERR_CONFIG_INVALID');
  throwsCode(() => defineRoles({ admin: [] }), 'ERR_CONFIG_INVALID');
  throwsCode(() => defineRoles({ admin: [''] }), 'ERR_CONFIG_INVALID');
  throwsCode(() => defineRoles(['admins'] as never), 'ERR_CONFIG_INVALID');
});

test('role names that exist on Object.prototype are not roles', () => {
  throwsCode(() => roles.hasRole(withGroups(['admins']), 'constructor' as never), 'ERR_CONFIG_INVALID');
  throwsCode(() => roles.requireRole('toString' as never), 'ERR_CONFIG_INVALID');
});
