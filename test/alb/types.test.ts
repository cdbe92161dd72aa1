/**
 * Compile-time proof that an AlbVerifier config must name issuer and clientId (null opts out),
 * and takes no unknown keys: `npx tsc --noEmit` fails if any `@ts-expect-error` line compiles.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlbVerifier } from '../../src/alb/index.ts';

const albArn = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188';

test('issuer and clientId are required in the type, and at run time', () => {
  // @ts-expect-error issuer is missing
  assert.throws(() => new AlbVerifier({ albArn, clientId: 'c' }), /issuer is required/);
  // @ts-expect-error clientId is missing
  assert.throws(() => new AlbVerifier({ albArn, issuer: null }), /clientId is required/);
  // @ts-expect-error albArn is missing
  assert.throws(() => new AlbVerifier({ issuer: null, clientId: null }), /albArn/);
  // @ts-expect-error a misspelt key
  assert.throws(() => new AlbVerifier({ albArn, issuer: null, clientId: null, clientID: 'c' }), /clientID/);
  // @ts-expect-error undefined is not null: opting out must be explicit
  assert.throws(() => new AlbVerifier({ albArn, issuer: undefined, clientId: null }));
  assert.ok(new AlbVerifier({ albArn, issuer: null, clientId: null }));
});
