/**
 * getIamCaller: the user-pool user behind an IAM-authorized request, from the REST and HTTP API
 * event shapes; parsed strictly, checked against the configured pools.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getIamCaller, type IamCallerOptions } from '../../src/adapters/lambda.ts';
import { CognitoJwtError } from '../../src/index.ts';
import {
  authenticationProvider,
  IDENTITY_ID,
  IDENTITY_POOL_ID,
  iamHttpApiEvent,
  iamRestEvent,
  restIntegrationEvent,
  SIGNED_IN_SUB,
} from './lambda-events.ts';

const USER_POOL = 'us-east-1_AbC123xyz';
const options: IamCallerOptions = { identityPoolId: IDENTITY_POOL_ID, userPoolId: USER_POOL };
const provider = `cognito-idp.us-east-1.amazonaws.com/${USER_POOL}`;

function refused(run: () => unknown, code: string, claim?: string) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof CognitoJwtError, String(error));
    assert.equal(error.code, code, error.message);
    if (claim !== undefined) assert.equal(error.claim, claim);
    return true;
  });
}

describe('getIamCaller', () => {
  test('REST: cognitoAuthenticationProvider gives the user pool and the sub', () => {
    const event = iamRestEvent({ provider: authenticationProvider(USER_POOL, SIGNED_IN_SUB) });
    assert.deepEqual(getIamCaller(event, options), {
      identityId: IDENTITY_ID,
      identityPoolId: IDENTITY_POOL_ID,
      userPoolId: USER_POOL,
      sub: SIGNED_IN_SUB,
      source: 'rest',
    });
  });

  test('HTTP API: authorizer.iam.cognitoIdentity.amr gives the same', () => {
    const event = iamHttpApiEvent({
      amr: ['authenticated', provider, `${provider}:CognitoSignIn:${SIGNED_IN_SUB}`],
    });
    assert.deepEqual(getIamCaller(event, options), {
      identityId: IDENTITY_ID,
      identityPoolId: IDENTITY_POOL_ID,
      userPoolId: USER_POOL,
      sub: SIGNED_IN_SUB,
      source: 'http-api',
    });
  });

  test('a list of pools is accepted', () => {
    const other = 'eu-west-1_Other999';
    const event = iamRestEvent({ provider: authenticationProvider(other, SIGNED_IN_SUB) });
    assert.equal(
      getIamCaller(event, { identityPoolId: [IDENTITY_POOL_ID], userPoolId: [USER_POOL, other] }).userPoolId,
      other,
    );
  });

  test('another identity pool or another user pool (a resource policy that admits other accounts): refused', () => {
    refused(
      () =>
        getIamCaller(
          iamRestEvent({
            provider: authenticationProvider(USER_POOL, SIGNED_IN_SUB),
            identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
          }),
          options,
        ),
      'ERR_ISSUER_MISMATCH',
      'identityPoolId',
    );
    refused(
      () =>
        getIamCaller(
          iamRestEvent({ provider: authenticationProvider('us-east-1_Stranger1', SIGNED_IN_SUB) }),
          options,
        ),
      'ERR_ISSUER_MISMATCH',
      'userPoolId',
    );
    const stranger = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_Stranger1';
    refused(
      () =>
        getIamCaller(
          iamHttpApiEvent({ amr: ['authenticated', stranger, `${stranger}:CognitoSignIn:${SIGNED_IN_SUB}`] }),
          options,
        ),
      'ERR_ISSUER_MISMATCH',
      'userPoolId',
    );
  });

  test('guest identities: ERR_IDENTITY_UNAUTHENTICATED, REST and HTTP API', () => {
    refused(
      () => getIamCaller(iamRestEvent({ provider: null, type: 'unauthenticated' }), options),
      'ERR_IDENTITY_UNAUTHENTICATED',
    );
    refused(
      () => getIamCaller(iamHttpApiEvent({ amr: ['unauthenticated'] }), options),
      'ERR_IDENTITY_UNAUTHENTICATED',
    );
  });

  test('other providers (social, developer identities) give no user-pool caller', () => {
    refused(
      () => getIamCaller(iamRestEvent({ provider: 'graph.facebook.com' }), options),
      'ERR_ISSUER_MISMATCH',
    );
    refused(
      () => getIamCaller(iamRestEvent({ provider: 'login.example.app' }), options),
      'ERR_ISSUER_MISMATCH',
    );
    refused(
      () => getIamCaller(iamHttpApiEvent({ amr: ['authenticated', 'graph.facebook.com'] }), options),
      'ERR_ISSUER_MISMATCH',
    );
    refused(
      () =>
        getIamCaller(
          iamHttpApiEvent({ amr: ['authenticated', 'accounts.google.com', 'accounts.google.com:1234'] }),
          options,
        ),
      'ERR_ISSUER_MISMATCH',
    );
  });

  test('every spelling API Gateway does not write is refused, never split into something else', () => {
    const good = authenticationProvider(USER_POOL, SIGNED_IN_SUB);
    const spellings = [
      `${good},${good}`, // three parts
      `${provider},cognito-idp.us-east-1.amazonaws.com/us-east-1_Stranger1:CognitoSignIn:${SIGNED_IN_SUB}`, // the two halves disagree
      `${provider},${provider}:CognitoSignIn:`, // no sub
      `${provider},${provider}:CognitoSignIn:${SIGNED_IN_SUB}:extra`,
      `${provider},${provider}:CognitoSignIn:not-a-uuid`,
      `${provider},${provider}:SignIn:${SIGNED_IN_SUB}`,
      `${provider} ,${provider}:CognitoSignIn:${SIGNED_IN_SUB}`,
      `cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC123xyz,cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC123xyz:CognitoSignIn:${SIGNED_IN_SUB}`, // region mismatch
      `cognito-idp.us-east-1.amazonaws.com/${USER_POOL}/x,cognito-idp.us-east-1.amazonaws.com/${USER_POOL}/x:CognitoSignIn:${SIGNED_IN_SUB}`,
      `https://cognito-idp.us-east-1.amazonaws.com/${USER_POOL},https://cognito-idp.us-east-1.amazonaws.com/${USER_POOL}:CognitoSignIn:${SIGNED_IN_SUB}`,
    ];
    for (const spelling of spellings) {
      assert.throws(
        () => getIamCaller(iamRestEvent({ provider: spelling }), options),
        CognitoJwtError,
        spelling,
      );
    }
    const amrs = [
      ['authenticated', provider],
      ['authenticated', provider, `${provider}:CognitoSignIn:${SIGNED_IN_SUB}`, 'extra'],
      [provider, 'authenticated', `${provider}:CognitoSignIn:${SIGNED_IN_SUB}`],
      ['authenticated', provider, `${provider}:CognitoSignIn:NOT-A-UUID`],
    ];
    for (const amr of amrs) {
      assert.throws(() => getIamCaller(iamHttpApiEvent({ amr }), options), CognitoJwtError, amr.join(' | '));
    }
    refused(
      () => getIamCaller(iamRestEvent({ provider: good, type: 'weird' }), options),
      'ERR_CLAIM_INVALID',
      'cognitoAuthenticationType',
    );
    refused(
      () => getIamCaller(iamRestEvent({ provider: good, identityId: 'nope' }), options),
      'ERR_CLAIM_INVALID',
      'cognitoIdentityId',
    );
  });

  test('a request not signed by an identity-pool identity: ERR_TOKEN_MISSING', () => {
    refused(() => getIamCaller(restIntegrationEvent({}), options), 'ERR_TOKEN_MISSING');
    refused(() => getIamCaller(iamHttpApiEvent(null), options), 'ERR_TOKEN_MISSING');
    refused(() => getIamCaller({}, options), 'ERR_TOKEN_MISSING');
  });

  test('options are checked', () => {
    const event = iamRestEvent({ provider: authenticationProvider(USER_POOL, SIGNED_IN_SUB) });
    for (const bad of [
      undefined,
      { userPoolId: USER_POOL },
      { identityPoolId: 'pool', userPoolId: USER_POOL },
      { identityPoolId: IDENTITY_POOL_ID, userPoolId: 'nope' },
      { identityPoolId: IDENTITY_POOL_ID, userPoolId: USER_POOL, clientId: 'x' },
    ]) {
      assert.throws(() => getIamCaller(event, bad as IamCallerOptions), { code: 'ERR_CONFIG_INVALID' });
    }
  });
});
