import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bearerChallenge,
  bearerToken,
  createHttpAuth,
  httpErrorResponse,
  toVerifier,
} from '../../src/adapters/http.ts';
import {
  CLIENT_MESSAGES,
  CognitoJwtError,
  CognitoVerifier,
  ERROR_STATUS,
  type ErrorCode,
} from '../../src/index.ts';
import { parseBearerChallenge } from '../helpers/adapter-suite.ts';
import { throwsCode } from '../helpers/assert-error.ts';

describe('bearerToken', () => {
  test('reads the token of a Bearer header, any scheme case, extra spaces tolerated', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('bearer abc'), 'abc');
    assert.equal(bearerToken('BEARER \t abc  '), 'abc');
  });

  test('no header, an empty one, or another scheme: no token', () => {
    for (const value of [undefined, null, '', '   ', 'Basic dXNlcjpwYXNz', 'Token abc', 'abc.def.ghi']) {
      assert.equal(bearerToken(value), undefined, String(value));
    }
  });

  test('a Bearer header without exactly one token is malformed', () => {
    throwsCode(() => bearerToken('Bearer'), 'ERR_TOKEN_MALFORMED', { message: 'holds no token' });
    throwsCode(() => bearerToken('Bearer   '), 'ERR_TOKEN_MALFORMED');
    throwsCode(() => bearerToken('Bearer a b'), 'ERR_TOKEN_MALFORMED', {
      message: '2 space-separated parts',
    });
  });

  test('allowBareToken accepts a header that is just the token (API Gateway style)', () => {
    assert.equal(bearerToken('abc.def.ghi', { allowBareToken: true }), 'abc.def.ghi');
    assert.equal(bearerToken('Bearer abc', { allowBareToken: true }), 'abc');
    assert.equal(bearerToken('Basic dXNlcjpwYXNz', { allowBareToken: true }), undefined);
  });
});

describe('bearerChallenge', () => {
  test('builds the RFC 6750 forms', () => {
    assert.equal(bearerChallenge({}), 'Bearer');
    assert.equal(bearerChallenge({ realm: 'api' }), 'Bearer realm="api"');
    assert.equal(
      bearerChallenge({ realm: 'api', error: 'invalid_token', description: 'token expired' }),
      'Bearer realm="api", error="invalid_token", error_description="token expired"',
    );
  });

  test('escapes descriptions into the RFC 6750 character set: quotes, backslashes, CR/LF, non-ASCII', () => {
    const header = bearerChallenge({
      error: 'invalid_token',
      description: 'issuer "a\\b"\r\nSet-Cookie: x=1\u0000 caf\u00e9 \u{1F600}',
    });
    assert.ok(!/[\r\n\0]/.test(header));
    const params = parseBearerChallenge(header);
    assert.equal(params.error_description, "issuer 'ab' Set-Cookie: x=1? caf? ??");
  });

  test('long descriptions are shortened', () => {
    const params = parseBearerChallenge(
      bearerChallenge({ error: 'invalid_token', description: 'x'.repeat(1000) }),
    );
    assert.equal(params.error_description?.length, 200);
    assert.ok(params.error_description?.endsWith('...'));
  });

  test('a realm outside the allowed characters is a config error', () => {
    for (const realm of ['say "hi"', 'back\\slash', 'line\nbreak', 'caf\u00e9', '']) {
      throwsCode(() => bearerChallenge({ realm }), 'ERR_CONFIG_INVALID');
    }
  });
});

describe('httpErrorResponse', () => {
  test('every error code maps to its ERROR_STATUS with the right challenge', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS) as [ErrorCode, number][]) {
      const answer = httpErrorResponse(new CognitoJwtError(code, `failure ${code}`), { realm: 'r' });
      assert.ok(answer, code);
      assert.equal(answer.status, status, code);
      assert.deepEqual(answer.body, { code, message: CLIENT_MESSAGES[code] });
      const header = answer.headers['www-authenticate'];
      if (status === 401 && code === 'ERR_TOKEN_MISSING') assert.equal(header, 'Bearer realm="r"');
      else if (status === 401)
        assert.equal(parseBearerChallenge(header ?? null).error, 'invalid_token', code);
      else if (status === 403)
        assert.equal(parseBearerChallenge(header ?? null).error, 'insufficient_scope', code);
      else assert.equal(header, undefined, code);
    }
  });

  test('the client is told the fixed sentence; exposeErrorDetail sends the detail, made header-safe', () => {
    const error = new CognitoJwtError(
      'ERR_ISSUER_MISMATCH',
      'expected issuer "https://idp/eu-west-1_Secret"',
    );
    const plain = httpErrorResponse(error);
    assert.deepEqual(plain?.body, {
      code: 'ERR_ISSUER_MISMATCH',
      message: 'the token was not issued for this API',
    });
    assert.equal(
      plain?.headers['www-authenticate'],
      'Bearer error="invalid_token", error_description="the token was not issued for this API"',
    );
    const detailed = httpErrorResponse(error, { exposeErrorDetail: true });
    assert.equal(detailed?.body.message, "expected issuer 'https://idp/eu-west-1_Secret'");
    assert.equal(
      parseBearerChallenge(detailed?.headers['www-authenticate'] ?? null).error_description,
      "expected issuer 'https://idp/eu-west-1_Secret'",
    );
  });

  test('every client sentence fits an RFC 6750 error_description unchanged, and repeats no placeholder', () => {
    for (const [code, sentence] of Object.entries(CLIENT_MESSAGES)) {
      if (code === 'ERR_TOKEN_MISSING') continue; // never in a challenge (RFC 6750 §3.1)
      assert.match(sentence, /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/, code);
    }
  });

  test("errors that are not the library's belong to the framework", () => {
    assert.equal(httpErrorResponse(new Error('boom')), undefined);
    assert.equal(httpErrorResponse('boom'), undefined);
  });
});

describe('toVerifier and createHttpAuth', () => {
  const config = { userPoolId: 'eu-west-1_AbC123', clientId: 'client', tokenUse: 'access' } as const;

  test('a verifier is used as is; a config builds one; anything else is refused', () => {
    const verifier = new CognitoVerifier(config);
    assert.equal(toVerifier(verifier, 'test'), verifier);
    assert.ok(toVerifier(config, 'test') instanceof CognitoVerifier);
    assert.ok(toVerifier([config], 'test') instanceof CognitoVerifier);
    throwsCode(() => toVerifier('eu-west-1_AbC123' as never, 'test'), 'ERR_CONFIG_INVALID');
    throwsCode(
      () => toVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'client' } as never, 'test'),
      'ERR_CONFIG_INVALID',
      {
        message: 'tokenUse is required',
      },
    );
  });

  test('options are checked when the adapter is created', () => {
    const read = () => undefined;
    throwsCode(() => createHttpAuth(null as never, read, 'x'), 'ERR_CONFIG_INVALID');
    throwsCode(
      () => createHttpAuth({ verifier: config, getToken: 'cookie' as never }, read, 'x'),
      'ERR_CONFIG_INVALID',
    );
    throwsCode(
      () => createHttpAuth({ verifier: config, credentialsRequired: 'no' as never }, read, 'x'),
      'ERR_CONFIG_INVALID',
    );
    throwsCode(
      () => createHttpAuth({ verifier: config, forwardErrors: 1 as never }, read, 'x'),
      'ERR_CONFIG_INVALID',
    );
    throwsCode(() => createHttpAuth({ verifier: config, realm: 'a"b' }, read, 'x'), 'ERR_CONFIG_INVALID');
    throwsCode(
      () => createHttpAuth({ verifier: config, onError: 'console' as never }, read, 'x'),
      'ERR_CONFIG_INVALID',
      { message: 'onError must be a function' },
    );
    throwsCode(
      () => createHttpAuth({ verifier: config, exposeErrorDetail: 'yes' as never }, read, 'x'),
      'ERR_CONFIG_INVALID',
      { message: 'exposeErrorDetail must be true or false' },
    );
  });

  test('authenticate: the token goes to the verifier; none means ERR_TOKEN_MISSING or anonymous', async () => {
    const seen: string[] = [];
    const verifier = {
      verify: async (token: string) => {
        seen.push(token);
        return { sub: 's', token_use: 'id' } as never;
      },
    };
    const required = createHttpAuth({ verifier }, (header: string | undefined) => header, 'x');
    assert.deepEqual(await required.authenticate('Bearer t1'), { sub: 's', token_use: 'id' });
    await assert.rejects(required.authenticate(undefined), { code: 'ERR_TOKEN_MISSING' });
    const optional = createHttpAuth(
      { verifier, credentialsRequired: false },
      (header: string | undefined) => header,
      'x',
    );
    assert.equal(await optional.authenticate(undefined), undefined);
    const custom = createHttpAuth({ verifier, getToken: async () => 't2' }, () => 'Bearer ignored', 'x');
    await custom.authenticate(undefined);
    assert.deepEqual(seen, ['t1', 't2']);
  });
});
