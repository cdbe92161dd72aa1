/**
 * One spelling per token: no string other than the token itself verifies as it. Node's base64url
 * decoder and its 'ascii' encoder keep only the low byte of each UTF-16 unit, so a character `c`
 * written as `c + 0x100` (or any non-ASCII unit with the same low byte) decodes to the same bytes;
 * every such spelling must be refused before any decoding, with ERR_TOKEN_MALFORMED.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type CognitoJwtError, decodeUnverified } from '../../src/index.ts';
import {
  assertOurError,
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

const substitute = (token: string, at: number, unit: string) =>
  token.slice(0, at) + unit + token.slice(at + 1);

/** The code units that alias `code` for a decoder keeping the low byte: `code + k·0x100`, k = 1…255. */
function aliases(code: number): number[] {
  const units: number[] = [];
  for (let unit = code + 0x100; unit <= 0xffff; unit += 0x100) units.push(unit);
  return units;
}

/** `decodeUnverified` and `verifySync` both refuse `mutant` with ERR_TOKEN_MALFORMED. */
function assertMalformedSync(mutant: string): void {
  for (const run of [() => decodeUnverified(mutant), () => fixture.verifier.verifySync(mutant)]) {
    const error = thrownBy(run);
    assertOurError(error);
    assert.equal(error.code, 'ERR_TOKEN_MALFORMED', `${JSON.stringify(mutant)}: ${error.message}`);
  }
}

test('the spellings this guards against really decode to the same bytes in Node (the bug is real)', () => {
  const token = fixture.tokens[0]!;
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const at = 7;
  const bentPayload = substitute(payload, at, String.fromCharCode(payload.charCodeAt(at) + 0x300));
  assert.deepEqual(Buffer.from(bentPayload, 'base64url'), Buffer.from(payload, 'base64url'));
  assert.deepEqual(
    Buffer.from(`${header}.${bentPayload}`, 'ascii'),
    Buffer.from(`${header}.${payload}`, 'ascii'),
  );
  assertMalformedSync(`${header}.${bentPayload}.${signature}`);
});

/** Each unit written at `at` makes `token` fail verifySync with ERR_TOKEN_MALFORMED; returns how many were tried. */
function refusedAll(token: string, at: number, units: readonly number[]): number {
  for (const unit of units) {
    const mutant = substitute(token, at, String.fromCharCode(unit));
    // verifySync alone here (decodeUnverified takes the same parse); the property below runs all three.
    const error = thrownBy(() => fixture.verifier.verifySync(mutant)) as CognitoJwtError | undefined;
    if (error?.code !== 'ERR_TOKEN_MALFORMED') {
      assert.fail(`U+${unit.toString(16)} at ${at} gave ${error ? error.code : 'an accepted token'}`);
    }
  }
  return units.length;
}

test('every position of every valid token, written as a low-byte alias, its fullwidth form or a lone surrogate, is refused', () => {
  let mutants = 0;
  for (const token of fixture.tokens) {
    for (let at = 0; at < token.length; at++) {
      const code = token.charCodeAt(at);
      const low = aliases(code);
      // Fullwidth forms (U+FF01…U+FF5E) mirror ASCII '!'…'~' at +0xFEE0; some decoders fold them.
      mutants += refusedAll(token, at, [low[0]!, low.at(-1)!, code + 0xfee0, 0xd800 | code, 0xdc00 | code]);
    }
  }
  assert.ok(mutants > 3 * 1000 * 5, `${mutants} mutants`);
});

test('all 255 low-byte aliases are refused at the ends of every segment and at the dots', () => {
  for (const token of fixture.tokens) {
    const dot1 = token.indexOf('.');
    const dot2 = token.lastIndexOf('.');
    for (const at of [0, dot1 - 1, dot1, dot1 + 1, dot2 - 1, dot2, dot2 + 1, token.length - 1]) {
      assert.equal(refusedAll(token, at, aliases(token.charCodeAt(at))), 255);
    }
  }
});

/** One UTF-16 unit (or, for astral code points, a surrogate pair) from outside the token alphabet. */
function replacement(original: number): fc.Arbitrary<string> {
  return fc.oneof(
    // Anywhere in U+0080–U+FFFF, lone surrogates included.
    fc.integer({ min: 0x80, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
    // Lone surrogates on their own, high and low.
    fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
    // The fullwidth and halfwidth forms block.
    fc.integer({ min: 0xff00, max: 0xffef }).map((unit) => String.fromCharCode(unit)),
    // The same code plus a multiple of 0x100: the same low byte.
    fc.constantFrom(...aliases(original)).map((unit) => String.fromCharCode(unit)),
    // A code point beyond the BMP, written as a surrogate pair.
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((point) => String.fromCodePoint(point)),
  );
}

test('property: a valid token with one character replaced by any non-ASCII code is refused by decode, verifySync and verify', async () => {
  const mutant = fc
    .tuple(fc.constantFrom(...fixture.tokens), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }))
    .chain(([token, where]) => {
      const at = Math.floor(where * token.length);
      return replacement(token.charCodeAt(at)).map((unit) => substitute(token, at, unit));
    });
  await fc.assert(
    fc.asyncProperty(mutant, async (text) => {
      assertMalformedSync(text);
      const error = await fixture.verifier.verify(text).then(
        () => assert.fail('verify accepted the mutant'),
        (caught: unknown) => caught,
      );
      assertOurError(error);
      assert.equal(error.code, 'ERR_TOKEN_MALFORMED');
    }),
    { numRuns: NUM_RUNS, plugins: [fc.timeout(RUN_TIME_LIMIT_MS)] },
  );
});
