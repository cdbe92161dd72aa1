import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { decodeUnverified } from '../../src/index.ts';
import { generateKeyPair, signJwt } from '../../src/testing/index.ts';
import {
  assertOurError,
  assertRejectedByBoth,
  type Fixture,
  NUM_RUNS,
  RUN_TIME_LIMIT_MS,
  startFixture,
  thrownBy,
} from './fixture.ts';

let fixture: Fixture;
before(async () => {
  fixture = await startFixture();
});
after(() => fixture.close());

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Characters a mutation may write: the alphabet, separators, padding, whitespace, and a few outsiders. */
const character = fc.oneof(
  fc.constantFrom(...BASE64URL),
  fc.constantFrom('.', '=', '+', '/', ' ', '\t', '\n', '%', '"', '{', '\u0000', 'é', '\u{1F600}'),
);

type Edit = (text: string) => string;

/** One character replaced, inserted or deleted at a position given as a fraction of the length. */
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc
    .tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), character)
    .map(([where, c]) => (text: string) => {
      const at = Math.floor(where * text.length);
      return text.slice(0, at) + c + text.slice(at + 1);
    }),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), character).map(([where, c]) => (text: string) => {
    const at = Math.round(where * text.length);
    return text.slice(0, at) + c + text.slice(at);
  }),
  fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }).map((where) => (text: string) => {
    const at = Math.floor(where * text.length);
    return text.slice(0, at) + text.slice(at + 1);
  }),
);

const validToken = () => fc.constantFrom(...fixture.tokens);

function segments(token: string): [string, string, string] {
  const [header, payload, signature] = token.split('.');
  return [header!, payload!, signature!];
}

function json(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A mutated token must be rejected by verifySync and verify with one of our 401 errors; both
 * entry points agree, except that an unknown kid may meet the refetch cooldown in verify.
 */
async function assertNeverAccepted(mutated: string): Promise<void> {
  fc.pre(!fixture.tokens.includes(mutated));
  const started = performance.now();
  const decodeError = thrownBy(() => decodeUnverified(mutated));
  if (decodeError !== undefined) assertOurError(decodeError);
  const [syncError, asyncError] = await assertRejectedByBoth(fixture.verifier, mutated);
  assert.equal(syncError.status, 401, `${syncError.code}: ${syncError.message}`);
  if (syncError.code === 'ERR_KEY_NOT_FOUND') {
    assert.ok(['ERR_KEY_NOT_FOUND', 'ERR_KID_COOLDOWN'].includes(asyncError.code), asyncError.code);
  } else {
    assert.equal(asyncError.code, syncError.code);
  }
  assert.ok(performance.now() - started < RUN_TIME_LIMIT_MS);
}

const options = () => ({ numRuns: NUM_RUNS, plugins: [fc.timeout(RUN_TIME_LIMIT_MS)] });

test('the unmutated tokens are accepted (so a rejection below is the mutation, not the set-up)', async () => {
  for (const token of fixture.tokens) {
    assert.equal((await fixture.verifier.verify(token)).iss, fixture.issuer);
  }
});

test('tokens with 1 to 6 characters flipped, inserted or deleted anywhere are never accepted', async () => {
  await fc.assert(
    fc.asyncProperty(validToken(), fc.array(edit, { minLength: 1, maxLength: 6 }), (token, edits) =>
      assertNeverAccepted(edits.reduce((text, apply) => apply(text), token)),
    ),
    options(),
  );
});

test('tokens with segments swapped, dropped, repeated or taken from another valid token are never accepted', async () => {
  const pick = fc.tuple(fc.nat(2), fc.nat(2));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(validToken(), fc.nat(2)), { minLength: 1, maxLength: 5 }),
      validToken(),
      pick,
      (parts, original, [from, to]) => {
        const rebuilt = parts.map(([token, index]) => segments(token)[index]).join('.');
        const swapped = segments(original);
        [swapped[from], swapped[to]] = [swapped[to]!, swapped[from]!];
        return Promise.all([
          assertNeverAccepted(rebuilt),
          from === to ? undefined : assertNeverAccepted(swapped.join('.')),
        ]).then(() => undefined);
      },
    ),
    options(),
  );
});

const CLAIM_NAMES = [
  'sub',
  'iss',
  'aud',
  'client_id',
  'token_use',
  'exp',
  'nbf',
  'iat',
  'scope',
  'cognito:groups',
  'username',
  '__proto__',
  'constructor',
] as const;

test('payloads re-encoded with a claim changed, added or removed (signature kept) are never accepted', async () => {
  await fc.assert(
    fc.asyncProperty(
      validToken(),
      fc.oneof(fc.constantFrom(...CLAIM_NAMES), fc.string({ maxLength: 12 })),
      fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
      fc.boolean(),
      (token, claim, value, reformat) => {
        const [header, payload, signature] = segments(token);
        const claims = json(payload);
        if (value === undefined) delete claims[claim];
        else
          Object.defineProperty(claims, claim, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        // Reformatting keeps the claims but changes the bytes the signature covers.
        const text = reformat ? JSON.stringify(claims, null, 1) : JSON.stringify(claims);
        const mutated = `${header}.${Buffer.from(text).toString('base64url')}.${signature}`;
        return assertNeverAccepted(mutated);
      },
    ),
    options(),
  );
});

test('headers re-encoded with alg, kid, crit, b64, jku, x5u or jwk changed (signature kept) are never accepted', async () => {
  const attacker = generateKeyPair();
  const member = fc.oneof(
    fc.record({
      alg: fc.constantFrom('none', 'None', 'HS256', 'RS384', 'RS512', 'PS256', 'ES256', 'rs256', ''),
    }),
    fc.record({ kid: fc.oneof(fc.string({ maxLength: 300 }), fc.constant(attacker.kid), fc.integer()) }),
    fc.record({ crit: fc.constantFrom(['b64'], ['exp'], [], 'b64') }),
    fc.record({ b64: fc.boolean() }),
    fc.record({ jku: fc.constant('http://127.0.0.1:1/jwks.json') }),
    fc.record({ x5u: fc.constant('http://127.0.0.1:1/cert.pem') }),
    fc.record({ jwk: fc.constant(attacker.publicJwk) }),
    fc.record({ typ: fc.string({ maxLength: 8 }) }),
  );
  await fc.assert(
    fc.asyncProperty(validToken(), member, (token, change) => {
      const [header, payload, signature] = segments(token);
      return assertNeverAccepted(`${encode({ ...json(header), ...change })}.${payload}.${signature}`);
    }),
    options(),
  );
});

test("claims changed and re-signed by an attacker's key, even one reusing the pool's kid, are never accepted", async () => {
  const attackers = [generateKeyPair(), generateKeyPair()];
  await fc.assert(
    fc.asyncProperty(
      validToken(),
      fc.nat(1),
      fc.boolean(),
      fc.constantFrom(['admins'], ['root'], []),
      (token, which, reuseKid, groups) => {
        const [header, payload] = segments(token);
        const signer = attackers[which]!;
        const forged = signJwt(
          { ...json(header), ...(reuseKid ? {} : { kid: signer.kid }) },
          { ...json(payload), 'cognito:groups': groups },
          signer.privateKey,
        );
        return assertNeverAccepted(forged);
      },
    ),
    options(),
  );
});
