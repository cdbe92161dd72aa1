import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { decodeUnverified } from '../../src/index.ts';
import { signJwt } from '../../src/testing/index.ts';
import {
  assertNoPollution,
  assertOurError,
  assertRejectedByBoth,
  type Fixture,
  NUM_RUNS,
  prototypeMembers,
  RUN_TIME_LIMIT_MS,
  startFixture,
  thrownBy,
} from './fixture.ts';

let fixture: Fixture;
before(async () => {
  fixture = await startFixture();
});
after(() => fixture.close());

const MAX_DECODE_LENGTH = 1024 * 1024;
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const segmentsToken = (...segments: string[]) => segments.join('.');

/**
 * Feed one input to every entry point: decodeUnverified (default and largest length limit) may
 * return a plain object or throw our error; verifySync and verify must reject it with our error.
 * Nothing may touch a built-in prototype, and one run must end well within the time bound.
 */
async function assertHandled(input: unknown): Promise<void> {
  const prototypes = prototypeMembers();
  const started = performance.now();
  for (const options of [{}, { maxTokenLength: MAX_DECODE_LENGTH }]) {
    let decoded: ReturnType<typeof decodeUnverified> | undefined;
    const error = thrownBy(() => {
      decoded = decodeUnverified(input as string, options);
    });
    if (error !== undefined) assertOurError(error);
    else {
      assert.equal(Object.getPrototypeOf(decoded!.header), Object.prototype);
      assert.equal(Object.getPrototypeOf(decoded!.payload), Object.prototype);
    }
  }
  await assertRejectedByBoth(fixture.verifier, input);
  assertNoPollution(prototypes);
  assert.ok(performance.now() - started < RUN_TIME_LIMIT_MS, 'one run took longer than the bound');
}

const options = () => ({ numRuns: NUM_RUNS, plugins: [fc.timeout(RUN_TIME_LIMIT_MS)] });

/** Values that are not strings, including ones that look like a token when converted to a string. */
const notAString = () => {
  const token = fixture.tokens[0]!;
  return fc.oneof(
    fc
      .anything({
        withBigInt: true,
        withBoxedValues: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
      })
      .filter((value) => typeof value !== 'string'),
    fc.constantFrom<unknown>(
      null,
      undefined,
      Symbol('token'),
      Symbol.iterator,
      () => token,
      new String(token),
      { toString: () => token },
      { valueOf: () => token, [Symbol.toPrimitive]: () => token },
      Buffer.from(token),
      new TextEncoder().encode(token),
      [token],
      Object.create(null),
      new Proxy(
        {},
        {
          get() {
            throw new Error('a proxy trap ran');
          },
        },
      ),
    ),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  );
};

test('non-string inputs are rejected with our error, never converted', async () => {
  await fc.assert(fc.asyncProperty(notAString(), assertHandled), options());
});

test('arbitrary strings, including any unicode, are rejected with our error', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 50 })),
      assertHandled,
    ),
    options(),
  );
});

test('huge strings are rejected by length before any parsing', async () => {
  const token = fixture.tokens[1]!;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 16 * 1024 + 1, max: 4 * 1024 * 1024 }),
      fc.constantFrom('a', '.', 'eyJ', `${token}.`, '[', '\u{1F600}'),
      async (length, unit) => {
        const huge = unit.repeat(Math.ceil(length / unit.length));
        await assertHandled(huge);
        assert.equal(
          (thrownBy(() => fixture.verifier.verifySync(huge)) as Error).message.includes('limit'),
          true,
        );
      },
    ),
    { ...options(), numRuns: 40 },
  );
});

const base64urlSegment = fc.stringMatching(/^[A-Za-z0-9_-]{0,120}$/);

test('random base64url segments, 1 to 7 of them, are rejected with our error', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(base64urlSegment, { minLength: 1, maxLength: 7 }), (segments) =>
      assertHandled(segments.join('.')),
    ),
    options(),
  );
});

test('well-formed tokens with arbitrary JSON header and payload are rejected with our error', async () => {
  const signature = fc
    .uint8Array({ minLength: 0, maxLength: 300 })
    .map((bytes) => Buffer.from(bytes).toString('base64url'));
  const header = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.constant({ alg: 'RS256', kid: fixture.key.kid }),
    fc.record({ alg: fc.constant('RS256'), kid: fc.string() }),
  );
  const payload = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record(
      {
        iss: fc.constantFrom(fixture.issuer, `${fixture.issuer}/`, 'https://evil.example'),
        token_use: fc.constantFrom('id', 'access', 'refresh'),
        exp: fc.oneof(fc.integer(), fc.double(), fc.constant(Number.MAX_VALUE)),
        sub: fc.string(),
      },
      { requiredKeys: ['iss'] },
    ),
  );
  await fc.assert(
    fc.asyncProperty(header, payload, signature, (h, p, s) =>
      assertHandled(segmentsToken(b64(JSON.stringify(h)), b64(JSON.stringify(p)), s)),
    ),
    options(),
  );
});

/** `depth` levels of arrays or objects around a value, as JSON text. */
function nested(depth: number, kind: 'array' | 'object' | 'mixed'): string {
  let open = '';
  let close = '';
  for (let level = 0; level < depth; level++) {
    const array = kind === 'array' || (kind === 'mixed' && level % 2 === 0);
    open += array ? '[' : '{"a":';
    close = (array ? ']' : '}') + close;
  }
  return `{"iss":"x","deep":${open}1${close}}`;
}

test('deeply nested JSON payloads are rejected quickly (or decoded when shallow), never overflow the stack', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 41, max: 300_000 })),
      fc.constantFrom('array', 'object', 'mixed') as fc.Arbitrary<'array' | 'object' | 'mixed'>,
      fc.boolean(),
      async (depth, kind, inHeader) => {
        const deep = b64(nested(depth, kind));
        const plain = b64(JSON.stringify({ alg: 'RS256', kid: fixture.key.kid }));
        await assertHandled(
          inHeader ? segmentsToken(deep, b64('{"iss":"x"}'), 'AAAA') : segmentsToken(plain, deep, 'AAAA'),
        );
      },
    ),
    { ...options(), numRuns: 60 },
  );
});

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** A JSON object text whose members are written in order, so `__proto__` stays a member name. */
const objectText = (members: [string, unknown][]) =>
  `{${members.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(',')}}`;

const pollutingValue = fc.oneof(
  fc.constant({ polluted: true, isAdmin: true, alg: 'none', token_use: 'id' }),
  fc.constant({ prototype: { polluted: true } }),
  fc.constant({ __proto__: { polluted: true } }),
  fc.jsonValue({ maxDepth: 2 }),
);

test('headers and payloads with __proto__, constructor or prototype members are inert', async () => {
  const member = fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS), pollutingValue);
  await fc.assert(
    fc.asyncProperty(
      fc.array(member, { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      fc.boolean(),
      async (members, inHeader, signed) => {
        const header: [string, unknown][] = [
          ['alg', 'RS256'],
          ['kid', fixture.key.kid],
        ];
        const payload: [string, unknown][] = [['iss', fixture.issuer]];
        (inHeader ? header : payload).push(...members);
        const headerText = objectText(header);
        const payloadText = objectText(payload);
        const input = signed
          ? // JSON.parse keeps __proto__ as an own member, so signJwt writes it back out.
            signJwt(JSON.parse(headerText), JSON.parse(payloadText), fixture.key.privateKey)
          : segmentsToken(b64(headerText), b64(payloadText), 'AAAA');
        await assertHandled(input);
      },
    ),
    options(),
  );
});

test('a signed token whose claims carry __proto__ and constructor verifies as plain own data', async () => {
  const prototypes = prototypeMembers();
  const [, payload] = fixture.tokens[0]!.split('.');
  const original = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  const claims = JSON.parse(
    objectText([
      ['__proto__', { isAdmin: true, token_use: 'access' }],
      ['constructor', { prototype: { polluted: true } }],
      ...Object.entries(original),
    ]),
  ) as Record<string, unknown>;
  const token = signJwt({ alg: 'RS256', kid: fixture.key.kid }, claims, fixture.key.privateKey);
  for (const verified of [fixture.verifier.verifySync(token), await fixture.verifier.verify(token)]) {
    assert.equal(verified.token_use, 'id');
    assert.equal(Object.getPrototypeOf(verified), Object.prototype);
    assert.ok(Object.hasOwn(verified, '__proto__'));
    assert.equal((verified as Record<string, unknown>).isAdmin, undefined);
  }
  assertNoPollution(prototypes);
});

test('a header whose alg hides behind __proto__ is not read through the prototype', async () => {
  const header = b64(`{"__proto__":{"alg":"RS256"},"kid":${JSON.stringify(fixture.key.kid)}}`);
  const [, payload, signature] = fixture.tokens[0]!.split('.');
  const [syncError] = await assertRejectedByBoth(
    fixture.verifier,
    segmentsToken(header, payload!, signature!),
  );
  assert.equal(syncError.code, 'ERR_ALG_UNSUPPORTED');
});

test('a duplicated __proto__ member is rejected as a duplicate', async () => {
  const payload = b64(
    `{"iss":${JSON.stringify(fixture.issuer)},"__proto__":{},"__proto__":{"isAdmin":true}}`,
  );
  const header = b64(JSON.stringify({ alg: 'RS256', kid: fixture.key.kid }));
  const input = segmentsToken(header, payload, 'AAAA');
  const error = thrownBy(() => decodeUnverified(input));
  assertOurError(error);
  assert.equal(error.code, 'ERR_TOKEN_MALFORMED');
  assert.match(error.message, /duplicate/);
});
