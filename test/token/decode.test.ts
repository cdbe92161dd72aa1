import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CognitoClaims,
  CognitoVerifier,
  DEFAULT_MAX_TOKEN_LENGTH,
  decodeUnverified,
  type JwtHeader,
} from '../../src/index.ts';
import {
  buildJwks,
  DEFAULT_TEST_POOL_ID,
  generateKeyPair,
  mintAccessToken,
  mintIdToken,
  mintRefreshToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';
import { noFetch } from '../helpers/no-fetch.ts';
import { base64url } from '../helpers/raw-jwt.ts';

const key = generateKeyPair();

/** A syntactically valid token of exactly `length` characters (the payload carries filler). */
function tokenOfLength(length: number): string {
  const header = base64url('{"alg":"RS256","kid":"k1"}');
  const signature = base64url('0123456789ab'); // 16 characters
  const fixed = header.length + signature.length + 2 + base64url('{"x":""}').length;
  const fillerChars = length - fixed;
  assert.ok(fillerChars % 4 === 0, 'pick a length that keeps the filler a multiple of 4');
  const payload = base64url(`{"x":"${'a'.repeat((fillerChars / 4) * 3)}"}`);
  const token = `${header}.${payload}.${signature}`;
  assert.equal(token.length, length);
  return token;
}

describe('the token is a string of exactly 3 segments', () => {
  test('3 segments decode', () => {
    const token = mintIdToken({ key, clientId: 'c1' });
    assert.equal(decodeUnverified(token).payload.aud, 'c1');
  });

  for (const count of [1, 2, 4, 6, 7]) {
    test(`${count} segments are refused as malformed, with the count in the message`, () => {
      const token = Array.from({ length: count }, () => base64url('{}')).join('.');
      throwsCode(() => decodeUnverified(token), 'ERR_TOKEN_MALFORMED', {
        message: `this token has ${count}`,
        status: 401,
        name: 'CognitoJwtError',
      });
    });
  }

  test('empty segments count as segments, and an empty header or payload is not JSON', () => {
    const [header, , signature] = mintIdToken({ key }).split('.');
    throwsCode(() => decodeUnverified(`${header}..${signature}`), 'ERR_TOKEN_MALFORMED', {
      message: 'payload is not valid JSON',
    });
    throwsCode(() => decodeUnverified('..'), 'ERR_TOKEN_MALFORMED', { message: 'header is not valid JSON' });
    throwsCode(() => decodeUnverified('.'), 'ERR_TOKEN_MALFORMED', { message: 'has 2' });
    throwsCode(() => decodeUnverified('...'), 'ERR_TOKEN_MALFORMED', { message: 'has 4' });
  });

  test('the empty string is refused', () => {
    throwsCode(() => decodeUnverified(''), 'ERR_TOKEN_MALFORMED', { message: 'empty' });
  });

  test('a non-string from JavaScript is refused with our error, not a TypeError', () => {
    for (const value of [undefined, null, 42, {}, ['a.b.c'], Buffer.from('a.b.c'), Symbol('t')]) {
      throwsCode(() => decodeUnverified(value as unknown as string), 'ERR_TOKEN_MALFORMED', {
        message: 'must be a string',
      });
    }
  });

  test('a "Bearer " prefix is not stripped by the decoder (that is the adapters\' job)', () => {
    throwsCode(() => decodeUnverified(`Bearer ${mintIdToken({ key })}`), 'ERR_TOKEN_MALFORMED');
  });
});

describe('the length cap', () => {
  test(`defaults to 16 KiB (${DEFAULT_MAX_TOKEN_LENGTH} characters): at the cap decodes, one more is refused`, () => {
    assert.equal(DEFAULT_MAX_TOKEN_LENGTH, 16 * 1024);
    assert.ok(decodeUnverified(tokenOfLength(16 * 1024)));
    throwsCode(() => decodeUnverified(tokenOfLength(16 * 1024 + 4)), 'ERR_TOKEN_MALFORMED', {
      message: `${16 * 1024 + 4} characters long, more than the limit of ${16 * 1024}`,
    });
  });

  test('is checked before anything else, so a huge string is refused without being scanned', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    throwsCode(() => decodeUnverified(huge), 'ERR_TOKEN_MALFORMED', { message: 'more than the limit' });
  });

  test('is configurable for decodeUnverified', () => {
    const token = tokenOfLength(20 * 1024);
    throwsCode(() => decodeUnverified(token), 'ERR_TOKEN_MALFORMED');
    assert.ok(decodeUnverified(token, { maxTokenLength: 20 * 1024 }).payload.x);
    throwsCode(() => decodeUnverified(tokenOfLength(1024), { maxTokenLength: 1020 }), 'ERR_TOKEN_MALFORMED');
  });

  test('is configurable for the verifier, and applies before any key lookup', async () => {
    const big = mintIdToken({ key, clientId: 'c1', claims: { filler: 'f'.repeat(20 * 1024) } });
    const network = noFetch();
    const config = {
      userPoolId: DEFAULT_TEST_POOL_ID,
      clientId: 'c1',
      tokenUse: 'id',
      jwks: buildJwks(key),
    } as const;
    await rejectsCode(
      new CognitoVerifier(config, { fetch: network.fetch }).verify(big),
      'ERR_TOKEN_MALFORMED',
      {
        message: 'more than the limit of 16384',
      },
    );
    const roomy = new CognitoVerifier(config, { fetch: network.fetch, maxTokenLength: 64 * 1024 });
    assert.equal((await roomy.verify(big)).filler, 'f'.repeat(20 * 1024));
    const tight = new CognitoVerifier(config, { fetch: network.fetch, maxTokenLength: 512 });
    throwsCode(() => tight.verifySync(mintIdToken({ key, clientId: 'c1' })), 'ERR_TOKEN_MALFORMED', {
      message: 'limit of 512',
    });
    assert.deepEqual(network.urls, []);
  });

  const badValues: unknown[] = [
    0,
    -1,
    63,
    1.5,
    1024 * 1024 + 1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '4096',
    null,
  ];
  for (const value of badValues) {
    test(`maxTokenLength ${String(value)} is a configuration error (decodeUnverified and the verifier)`, () => {
      const options = { maxTokenLength: value as number };
      throwsCode(() => decodeUnverified(mintIdToken({ key }), options), 'ERR_CONFIG_INVALID', {
        name: 'ConfigError',
        status: 500,
        message: 'maxTokenLength',
      });
      throwsCode(
        () =>
          new CognitoVerifier({ userPoolId: DEFAULT_TEST_POOL_ID, clientId: null, tokenUse: null }, options),
        'ERR_CONFIG_INVALID',
        { message: 'maxTokenLength' },
      );
    });
  }

  test('the limits of the allowed range (64 and 1 MiB) are valid settings; the cap is inclusive', () => {
    assert.ok(decodeUnverified(tokenOfLength(1024), { maxTokenLength: 1024 }));
    assert.ok(decodeUnverified(tokenOfLength(1024), { maxTokenLength: 1024 * 1024 }));
    throwsCode(() => decodeUnverified(tokenOfLength(1024), { maxTokenLength: 64 }), 'ERR_TOKEN_MALFORMED');
  });
});

describe('a refresh token (5-segment JWE)', () => {
  test('gets its own code and a message that says what to do with it', () => {
    const refresh = mintRefreshToken();
    assert.equal(refresh.split('.').length, 5);
    const error = throwsCode(() => decodeUnverified(refresh), 'ERR_REFRESH_TOKEN_PRESENTED', {
      status: 401,
      name: 'CognitoJwtError',
    });
    assert.match(error.message, /refresh token/);
    assert.match(error.message, /\/oauth2\/token/);
    assert.match(error.message, /cannot be verified/);
    assert.equal(error.message.includes(refresh.split('.')[1]!.slice(0, 16)), false);
  });

  test('is refused by verify() before any network request', async () => {
    const server = await startJwksServer({ keys: [key] });
    try {
      const issuer = server.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer,
        clientId: null,
        tokenUse: null,
      });
      await rejectsCode(verifier.verify(mintRefreshToken()), 'ERR_REFRESH_TOKEN_PRESENTED');
      throwsCode(() => verifier.verifySync(mintRefreshToken()), 'ERR_REFRESH_TOKEN_PRESENTED');
      assert.equal(server.requestCount, 0);
    } finally {
      await server.close();
    }
  });
});

describe('one spelling per token: only base64url characters and dots', () => {
  test('a character written with another high byte (same low byte, same bytes for Node) is refused with its position', () => {
    const token = mintIdToken({ key, clientId: 'c1' });
    const at = token.indexOf('.') + 3;
    const bent = `${token.slice(0, at)}${String.fromCharCode(token.charCodeAt(at) + 0x100)}${token.slice(at + 1)}`;
    assert.deepEqual(
      Buffer.from(bent.split('.')[1]!, 'base64url'),
      Buffer.from(token.split('.')[1]!, 'base64url'),
    );
    throwsCode(() => decodeUnverified(bent), 'ERR_TOKEN_MALFORMED', {
      message: `the payload is not base64url (no padding, no whitespace): U+01${token.charCodeAt(at).toString(16).toUpperCase()} at character ${at} of the token`,
    });
  });

  test('the segment named is where the character is; a lone surrogate is named by its code', () => {
    const token = mintIdToken({ key, clientId: 'c1' });
    throwsCode(() => decodeUnverified(`\ud800${token.slice(1)}`), 'ERR_TOKEN_MALFORMED', {
      message: 'the header is not base64url (no padding, no whitespace): U+D800 at character 0',
    });
    throwsCode(() => decodeUnverified(`${token.slice(0, -1)}\uff41`), 'ERR_TOKEN_MALFORMED', {
      message: 'the signature is not base64url',
    });
  });
});

describe('a token passed with its "Bearer " prefix', () => {
  const token = mintIdToken({ key, clientId: 'c1' });
  const verifier = new CognitoVerifier(
    { userPoolId: DEFAULT_TEST_POOL_ID, clientId: 'c1', tokenUse: 'id', jwks: buildJwks(key) },
    { fetch: noFetch().fetch },
  );
  const advice = 'pass the token alone, without the "Bearer " prefix';

  test('the token itself verifies (so the refusal below is the prefix)', () => {
    assert.equal(verifier.verifySync(token).token_use, 'id');
  });

  for (const prefix of ['Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t']) {
    test(`${JSON.stringify(prefix)}: decode, verifySync and verify say to drop the prefix`, async () => {
      throwsCode(() => decodeUnverified(`${prefix}${token}`), 'ERR_TOKEN_MALFORMED', { message: advice });
      throwsCode(() => verifier.verifySync(`${prefix}${token}`), 'ERR_TOKEN_MALFORMED', { message: advice });
      await rejectsCode(verifier.verify(`${prefix}${token}`), 'ERR_TOKEN_MALFORMED', { message: advice });
    });
  }

  test('other junk in front gets the plain message, not the Bearer advice', () => {
    const error = throwsCode(() => decodeUnverified(`Basic ${token}`), 'ERR_TOKEN_MALFORMED');
    assert.equal(error.message.includes('Bearer'), false, error.message);
  });
});

describe('decodeUnverified returns the header and typed payload', () => {
  test('of an ID token and of an access token, unverified and unchanged', () => {
    const now = Date.UTC(2026, 0, 1);
    const id = mintIdToken({ key, clientId: 'c1', groups: ['admin'], now, username: 'alice' });
    const decodedId = decodeUnverified(id);
    const header: JwtHeader = decodedId.header;
    assert.deepEqual(header, { kid: key.kid, alg: 'RS256' });
    const payload: Partial<CognitoClaims> = decodedId.payload;
    assert.equal(payload.token_use, 'id');
    assert.equal(payload.iat, now / 1000);
    assert.equal(payload.exp, now / 1000 + 3600);
    assert.deepEqual(payload['cognito:groups'], ['admin']);
    if (payload.token_use === 'id') assert.equal(payload['cognito:username'], 'alice');

    const access = decodeUnverified(mintAccessToken({ key, clientId: 'c2', scope: ['a/read', 'a/write'] }));
    assert.equal(access.payload.token_use, 'access');
    if (access.payload.token_use === 'access') {
      assert.equal(access.payload.client_id, 'c2');
      assert.equal(access.payload.scope, 'a/read a/write');
    }
  });

  test('decodes an expired token or one signed by anyone (it verifies nothing)', () => {
    const stranger = generateKeyPair();
    const decoded = decodeUnverified(mintIdToken({ key: stranger, expiresIn: -3600 }));
    assert.equal(decoded.header.kid, stranger.kid);
    assert.ok((decoded.payload.exp ?? 0) < Date.now() / 1000);
  });

  test('accepts a payload type argument for custom claims', () => {
    const token = mintIdToken({ key, claims: { 'custom:tenant': 't-42' } });
    const { payload } = decodeUnverified<{ 'custom:tenant': string }>(token);
    assert.equal(payload['custom:tenant'], 't-42');
  });
});
