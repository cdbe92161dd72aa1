import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { secretHash, TokenEndpointClient, type TokenEndpointClientOptions } from '../../src/oauth/index.ts';

test('domain: a Cognito or custom domain gives https /oauth2/token and /oauth2/revoke', () => {
  const cases: [string, string][] = [
    ['myapp.auth.us-east-1.amazoncognito.com', 'https://myapp.auth.us-east-1.amazoncognito.com'],
    ['auth.example.com', 'https://auth.example.com'],
    ['https://auth.example.com/', 'https://auth.example.com'],
    ['http://127.0.0.1:9999', 'http://127.0.0.1:9999'],
    ['http://localhost:8080', 'http://localhost:8080'],
  ];
  for (const [domain, origin] of cases) {
    const client = new TokenEndpointClient({ domain, clientId: 'c' });
    assert.equal(client.tokenEndpoint, `${origin}/oauth2/token`, domain);
    assert.equal(client.revocationEndpoint, `${origin}/oauth2/revoke`, domain);
  }
});

test('tokenEndpoint: the revocation endpoint derives from /oauth2/token', () => {
  const client = new TokenEndpointClient({
    tokenEndpoint: 'https://auth.example.com/oauth2/token',
    clientId: 'c',
  });
  assert.equal(client.revocationEndpoint, 'https://auth.example.com/oauth2/revoke');
});

test('constructor mistakes throw ConfigError', () => {
  const bad: [string, unknown][] = [
    ['http on a public host', { domain: 'http://auth.example.com', clientId: 'c' }],
    ['a domain with a path', { domain: 'auth.example.com/oauth2/token', clientId: 'c' }],
    ['the issuer host', { domain: 'cognito-idp.us-east-1.amazonaws.com', clientId: 'c' }],
    ['only the domain prefix', { domain: 'myapp', clientId: 'c' }],
    ['not a URL', { domain: 'my app.example.com', clientId: 'c' }],
    ['credentials in the URL', { tokenEndpoint: 'https://u:p@auth.example.com/oauth2/token', clientId: 'c' }],
    ['http tokenEndpoint', { tokenEndpoint: 'http://auth.example.com/oauth2/token', clientId: 'c' }],
    [
      'both domain and tokenEndpoint',
      { domain: 'auth.example.com', tokenEndpoint: 'https://a.example.com/t', clientId: 'c' },
    ],
    ['neither domain nor tokenEndpoint', { clientId: 'c' }],
    [
      'revocationEndpoint with a domain',
      { domain: 'auth.example.com', revocationEndpoint: 'https://a.example.com/r', clientId: 'c' },
    ],
    ['no clientId', { domain: 'auth.example.com' }],
    ['an empty secret', { domain: 'auth.example.com', clientId: 'c', clientSecret: '' }],
    [
      'an unknown authMethod',
      { domain: 'auth.example.com', clientId: 'c', clientSecret: 's', authMethod: 'private_key_jwt' },
    ],
    [
      'authMethod without a secret',
      { domain: 'auth.example.com', clientId: 'c', authMethod: 'client_secret_post' },
    ],
    ['a zero timeout', { domain: 'auth.example.com', clientId: 'c', timeoutMs: 0 }],
    ['a negative margin', { domain: 'auth.example.com', clientId: 'c', expiryMarginSeconds: -1 }],
    ['a NaN margin', { domain: 'auth.example.com', clientId: 'c', expiryMarginSeconds: Number.NaN }],
    ['fetch that is not a function', { domain: 'auth.example.com', clientId: 'c', fetch: 'fetch' }],
    ['no options', null],
  ];
  for (const [what, options] of bad) {
    assert.throws(
      () => new TokenEndpointClient(options as TokenEndpointClientOptions),
      (error: unknown) => error instanceof ConfigError && error.code === 'ERR_CONFIG_INVALID',
      what,
    );
  }
});

test('the secret never appears in a ConfigError message', () => {
  const secret = 'super-secret-value-123';
  try {
    new TokenEndpointClient({ domain: 'http://auth.example.com', clientId: 'c', clientSecret: secret });
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.ok(!error.message.includes(secret));
  }
});

test('secretHash: Base64(HMAC-SHA256(secret, username + clientId)), checked against openssl', () => {
  // printf '%s' 'jane.doe7c3f1b2a9e8d4c5b6a7f8e9d0c' | openssl dgst -sha256 -hmac 'k3y-s3cr3t-for-the-app-client' -binary | base64
  assert.equal(
    secretHash('jane.doe', '7c3f1b2a9e8d4c5b6a7f8e9d0c', 'k3y-s3cr3t-for-the-app-client'),
    'fsufoJyOjCR6E+KohUry/2PT2RCxTywtQ595JLYxtjM=',
  );
  assert.throws(() => secretHash('', 'client', 'secret'), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => secretHash('user', 'client', undefined as unknown as string), {
    code: 'ERR_CONFIG_INVALID',
  });
});
