import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heldTokenExpiry, issuedTokenExpiry } from '../../src/oauth/expiry.ts';
import { generateKeyPair, mintAccessToken, mintIdToken } from '../../src/testing/index.ts';

const key = generateKeyPair();
const NOW = Date.UTC(2030, 0, 1);

test('issued tokens: expires_in counts from the request on the local clock, whatever the JWT exp says', () => {
  // The server's clock is 2 hours ahead of ours: exp alone would keep the token 2 hours too long.
  const ahead = mintAccessToken({ key, now: NOW + 7_200_000, expiresIn: 3600 });
  assert.deepEqual(issuedTokenExpiry([ahead], 3600, NOW, 60_000), {
    expiresAt: NOW + 3_600_000,
    renewAt: NOW + 3_540_000,
  });
});

test('issued tokens: the shortest of expires_in and each JWT lifetime (exp - iat) wins', () => {
  const access = mintAccessToken({ key, now: NOW, expiresIn: 3600 });
  const id = mintIdToken({ key, now: NOW, expiresIn: 1800 });
  assert.equal(issuedTokenExpiry([access, id], 3600, NOW, 60_000).expiresAt, NOW + 1_800_000);
  assert.equal(issuedTokenExpiry([access, undefined], 600, NOW, 60_000).expiresAt, NOW + 600_000);
  assert.equal(issuedTokenExpiry(['opaque'], 900, NOW, 60_000).expiresAt, NOW + 900_000);
});

test('the margin is at most half the lifetime', () => {
  assert.deepEqual(issuedTokenExpiry(['opaque'], 60, NOW, 300_000), {
    expiresAt: NOW + 60_000,
    renewAt: NOW + 30_000,
  });
  assert.deepEqual(issuedTokenExpiry(['opaque'], 60, NOW, 0), {
    expiresAt: NOW + 60_000,
    renewAt: NOW + 60_000,
  });
});

test('held tokens: the earliest exp of access and ID token; margin from their lifetime', () => {
  const access = mintAccessToken({ key, now: NOW - 3_000_000, expiresIn: 3600 });
  const id = mintIdToken({ key, now: NOW - 3_000_000, expiresIn: 3300 });
  assert.deepEqual(heldTokenExpiry([access, id], NOW, 60_000), {
    expiresAt: NOW + 300_000,
    renewAt: NOW + 240_000,
  });
});

test('held tokens: nothing to read means expired now, so the first use refreshes', () => {
  assert.deepEqual(heldTokenExpiry(['opaque', undefined], NOW, 60_000), { expiresAt: NOW, renewAt: NOW });
});
