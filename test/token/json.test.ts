import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { decodeUnverified } from '../../src/index.ts';
import { buildJwks, DEFAULT_TEST_POOL_ID, generateKeyPair } from '../../src/testing/index.ts';
import { duplicateMember, MAX_JSON_DEPTH } from '../../src/token/json.ts';
import { CognitoVerifier } from '../../src/verify/verifier.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { noFetch } from '../helpers/no-fetch.ts';
import { base64url, signRaw } from '../helpers/raw-jwt.ts';

const HEADER = '{"alg":"RS256","kid":"k1"}';

/** A token with these raw header and payload bytes and a signature nobody checks. */
function unsigned(payload: string | Uint8Array, header: string | Uint8Array = HEADER): string {
  return `${base64url(header)}.${base64url(payload)}.${base64url('signature')}`;
}

function bytes(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))),
  );
}

describe('strict UTF-8', () => {
  test('valid multi-byte text decodes exactly', () => {
    const { payload } = decodeUnverified(unsigned('{"name":"Zoë 🚀 東京"}'));
    assert.equal(payload.name, 'Zoë 🚀 東京');
  });

  const invalid: [string, Buffer][] = [
    ['a stray 0xff byte', bytes('{"sub":"', [0xff], '"}')],
    ['a lone continuation byte', bytes('{"sub":"', [0x80], '"}')],
    ['an overlong "/" (0xc0 0xaf)', bytes('{"sub":"', [0xc0, 0xaf], '"}')],
    ['a UTF-16 surrogate encoded in UTF-8', bytes('{"sub":"', [0xed, 0xa0, 0x80], '"}')],
    ['a truncated 3-byte sequence', bytes('{"sub":"', [0xe2, 0x82], '"}')],
    ['a code point above U+10FFFF', bytes('{"sub":"', [0xf4, 0x90, 0x80, 0x80], '"}')],
  ];
  for (const [name, payload] of invalid) {
    test(`the payload with ${name} is refused, where Node would substitute U+FFFD`, () => {
      assert.ok(payload.toString('utf8').includes('\ufffd'));
      throwsCode(() => decodeUnverified(unsigned(payload)), 'ERR_TOKEN_MALFORMED', {
        message: 'payload is not valid UTF-8',
      });
    });
  }

  test('invalid UTF-8 in the header is refused too', () => {
    throwsCode(
      () => decodeUnverified(unsigned('{}', bytes('{"alg":"RS256","kid":"', [0xfe], '"}'))),
      'ERR_TOKEN_MALFORMED',
      { message: 'header is not valid UTF-8' },
    );
  });

  test('a byte order mark before the JSON is refused', () => {
    throwsCode(() => decodeUnverified(unsigned(bytes([0xef, 0xbb, 0xbf], '{}'))), 'ERR_TOKEN_MALFORMED', {
      message: 'payload is not valid JSON',
    });
  });
});

describe('header and payload are JSON objects', () => {
  for (const text of ['[]', '[{"sub":"a"}]', '"a string"', '42', 'true', 'null']) {
    test(`a payload of ${text} is refused`, () => {
      throwsCode(() => decodeUnverified(unsigned(text)), 'ERR_TOKEN_MALFORMED', {
        message: 'payload must be a JSON object',
      });
    });
    test(`a header of ${text} is refused`, () => {
      throwsCode(() => decodeUnverified(unsigned('{}', text)), 'ERR_TOKEN_MALFORMED', {
        message: 'header must be a JSON object',
      });
    });
  }

  for (const text of ['', '{', '{"a":1,}', "{'a':1}", '{"a":1} {}', '{"a":01}', '{"a":NaN}']) {
    test(`invalid JSON ${JSON.stringify(text)} is refused`, () => {
      throwsCode(() => decodeUnverified(unsigned(text)), 'ERR_TOKEN_MALFORMED', {
        message: 'payload is not valid JSON',
      });
    });
  }

  test('whitespace around the JSON is fine (it is still one object)', () => {
    assert.deepEqual(decodeUnverified(unsigned(' \n{ "a" : 1 }\t')).payload, { a: 1 });
  });
});

describe('duplicate member names', () => {
  const duplicates: [string, string][] = [
    ['at the top level', '{"sub":"alice","sub":"mallory"}'],
    ['spelled with an escape', '{"sub":"alice","s\\u0075b":"mallory"}'],
    ['in a nested object', '{"sub":"a","address":{"city":"x","city":"y"}}'],
    ['in an object inside an array', '{"sub":"a","identities":[{"id":1},{"id":2,"id":3}]}'],
    ['named __proto__', '{"__proto__":{},"__proto__":{}}'],
    ['deep down', '{"a":{"b":{"c":{"d":1,"d":2}}}}'],
    ['ending in an escaped backslash', '{"a\\\\":1,"a\\\\":2}'],
    ['after a string full of escapes', '{"q":"\\"\\\\\\":{","sub":1,"sub":2}'],
  ];
  for (const [where, payload] of duplicates) {
    test(`are refused ${where}`, () => {
      throwsCode(() => decodeUnverified(unsigned(payload)), 'ERR_TOKEN_MALFORMED', {
        message: 'payload has duplicate member names',
      });
    });
  }

  test('the message names the repeated member by its JSON path (duplicateMember)', () => {
    const paths = [
      'sub',
      'sub',
      'address.city',
      'identities[1].id',
      '__proto__',
      'a.b.c.d',
      '["a\\\\"]',
      'sub',
    ];
    for (const [index, [where, payload]] of duplicates.entries()) {
      assert.equal(duplicateMember(payload), paths[index], where);
      throwsCode(() => decodeUnverified(unsigned(payload)), 'ERR_TOKEN_MALFORMED', {
        message: `payload has duplicate member names (${paths[index]})`,
      });
    }
    assert.equal(duplicateMember('{"a":[1,{"b":[]},"x"],"c":{"d":null,"e":true},"f":-1e5}'), undefined);
    assert.equal(duplicateMember('[{"a":1},{"a":2},{"b":{"a":1,"a":1}}]'), '[2].b.a');
    assert.equal(duplicateMember(' {"routes" : [] , "rou\\u0074es":{}} '), 'routes');
  });

  test('are refused in the header ("alg" twice: parsers disagree on which wins)', () => {
    throwsCode(
      () => decodeUnverified(unsigned('{}', '{"alg":"RS256","alg":"none","kid":"k1"}')),
      'ERR_TOKEN_MALFORMED',
      { message: 'header has duplicate member names' },
    );
  });

  test('the same name in different objects, and colons inside strings, are not duplicates', () => {
    const text =
      '{"a":{"id":1},"b":{"id":2},"url":"https://x:1/a:b","q":"\\":\\"","arr":[{"id":1},{"id":1}]}';
    const escapes = '{"back\\\\":"\\\\","quote\\"":"\\":\\"","sub":"a"}';
    assert.deepEqual(decodeUnverified(unsigned(escapes)).payload, JSON.parse(escapes));
    assert.deepEqual(decodeUnverified(unsigned(text)).payload, JSON.parse(text));
  });
});

describe('prototype safety', () => {
  const key = generateKeyPair({ kid: 'k1' });
  const issuer = `https://cognito-idp.us-east-1.amazonaws.com/${DEFAULT_TEST_POOL_ID}`;
  const now = 1_750_000_000;

  after(() => {
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  });

  test('__proto__ and constructor members stay plain own data of the returned object', () => {
    const text =
      '{"sub":"a","__proto__":{"polluted":true,"token_use":"id"},"constructor":{"prototype":{"polluted":true}}}';
    const { header, payload } = decodeUnverified(unsigned(text, '{"__proto__":{"alg":"RS256","kid":"k1"}}'));
    assert.equal(Object.getPrototypeOf(payload), Object.prototype);
    assert.equal(Object.getPrototypeOf(header), Object.prototype);
    assert.equal(Object.hasOwn(payload, '__proto__'), true);
    assert.equal(Object.hasOwn(payload, 'constructor'), true);
    assert.equal(payload.token_use, undefined);
    assert.equal((payload as Record<string, unknown>).polluted, undefined);
    assert.equal(header.alg, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
    assert.equal(typeof Object.prototype.constructor, 'function');
  });

  test('a signed token cannot supply claims or header members through __proto__', () => {
    const network = noFetch();
    const verifier = new CognitoVerifier(
      {
        userPoolId: DEFAULT_TEST_POOL_ID,
        clientId: 'c1',
        tokenUse: null,
        groups: 'admin',
        jwks: buildJwks(key),
      },
      { fetch: network.fetch, clock: () => now * 1000 },
    );
    const claims = { sub: 'a', iss: issuer, aud: 'c1', iat: now, exp: now + 60 };
    const sign = (payload: string, header = HEADER) => signRaw(header, payload, key.privateKey);
    const base = JSON.stringify(claims).slice(0, -1);

    // A header whose alg and kid hide behind __proto__ has neither.
    throwsCode(
      () => verifier.verifySync(sign(JSON.stringify(claims), '{"__proto__":{"alg":"RS256","kid":"k1"}}')),
      'ERR_ALG_UNSUPPORTED',
    );
    // token_use only in __proto__: there is none.
    throwsCode(
      () => verifier.verifySync(sign(`${base},"__proto__":{"token_use":"id"}}`)),
      'ERR_TOKEN_USE_MISMATCH',
      {
        claim: 'token_use',
      },
    );
    // A group only in __proto__ grants nothing.
    throwsCode(
      () => verifier.verifySync(sign(`${base},"token_use":"id","__proto__":{"cognito:groups":["admin"]}}`)),
      'ERR_GROUP_MISSING',
      { status: 403 },
    );
    // With the real claim, the same token shape passes, and the result's prototype is untouched.
    const verified = verifier.verifySync(
      sign(`${base},"token_use":"id","cognito:groups":["admin"],"__proto__":{"polluted":true}}`),
    );
    assert.equal(Object.getPrototypeOf(verified), Object.prototype);
    assert.equal(verified.polluted, undefined);
    assert.deepEqual(verified['cognito:groups'], ['admin']);
    assert.deepEqual(network.urls, []);
  });
});

describe('nesting depth', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

  test(`${MAX_JSON_DEPTH} levels are accepted, one more is refused`, () => {
    assert.ok(decodeUnverified(unsigned(nested(MAX_JSON_DEPTH))).payload.a);
    throwsCode(() => decodeUnverified(unsigned(nested(MAX_JSON_DEPTH + 1))), 'ERR_TOKEN_MALFORMED', {
      message: `payload nests deeper than ${MAX_JSON_DEPTH} levels`,
    });
  });

  test('arrays count as levels too, and brackets inside strings do not', () => {
    const arrays = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    assert.ok(decodeUnverified(unsigned(arrays(MAX_JSON_DEPTH))));
    throwsCode(() => decodeUnverified(unsigned(arrays(MAX_JSON_DEPTH + 1))), 'ERR_TOKEN_MALFORMED');
    const inString = `{"a":"${'[{'.repeat(100)}"}`;
    assert.equal(decodeUnverified(unsigned(inString)).payload.a, '[{'.repeat(100));
  });

  test('a very deep document is refused before JSON.parse sees it (no stack overflow)', () => {
    const deep = '['.repeat(500_000);
    throwsCode(
      () => decodeUnverified(unsigned(`{"a":${deep}`), { maxTokenLength: 1024 * 1024 }),
      'ERR_TOKEN_MALFORMED',
      {
        message: 'nests deeper',
      },
    );
    throwsCode(
      () => decodeUnverified(unsigned('{}', `{"a":${deep}`), { maxTokenLength: 1024 * 1024 }),
      'ERR_TOKEN_MALFORMED',
      {
        message: 'header nests deeper',
      },
    );
  });
});
