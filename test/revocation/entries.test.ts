import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeEntry,
  decodeMember,
  encodeEntry,
  type RevocationEntry,
} from '../../src/revocation/entries.ts';

function decodeAll(members: readonly string[]): RevocationEntry[] {
  const entries: RevocationEntry[] = [];
  for (const member of members) {
    decodeMember(Buffer.from(member, 'utf8'), {
      session: (originJti, expiresAt, userPoolId, sub) =>
        entries.push(
          userPoolId === undefined || sub === undefined
            ? { kind: 'session', originJti, expiresAt }
            : { kind: 'session', originJti, expiresAt, owner: { userPoolId, sub } },
        ),
      other: (entry) => entries.push(entry),
    });
  }
  return entries;
}

test('members read as bytes decode to the entries they spell, as decodeEntry reads them', () => {
  const written: RevocationEntry[] = [
    { kind: 'session', originJti: '6f1c0f5e-8e0a-4b47-9d4c-3f0f2a7d9b10', expiresAt: 1_900_000_000_123 },
    {
      kind: 'user',
      userPoolId: 'eu-west-1_AbC123',
      sub: 'a-sub',
      cutoffSeconds: 1_800_000_000,
      expiresAt: 1_900_000_000_000,
    },
    { kind: 'session', originJti: 'ünïcødé-jti', expiresAt: 7 },
    {
      kind: 'session',
      originJti: 'owned-jti',
      expiresAt: 1_900_000_000_000,
      owner: { userPoolId: 'eu-west-1_AbC123', sub: 'a-sub' },
    },
  ];
  assert.deepEqual(decodeAll(written.map(encodeEntry)), written);
  for (const entry of written) assert.deepEqual(decodeEntry(encodeEntry(entry)), entry);
});

test('a visitor that takes plain sessions as bytes gets the same ids and expiries, and the rest as before', () => {
  const members = [
    's\t6f1c0f5e-8e0a-4b47-9d4c-3f0f2a7d9b10\t1900000000123',
    'o\teu-west-1_AbC123\ta-sub\towned-jti\t1900000000000',
    's\tnot-taken\t5',
  ];
  const seen: string[] = [];
  for (const member of members) {
    decodeMember(Buffer.from(member), {
      sessionBytes: (bytes, start, end, expiresAt) => {
        const id = bytes.toString('latin1', start, end);
        if (id === 'not-taken') return false;
        seen.push(`bytes ${id} ${expiresAt}`);
        return true;
      },
      session: (originJti, expiresAt, userPoolId, sub) =>
        seen.push(`string ${originJti} ${expiresAt} ${userPoolId ?? '-'} ${sub ?? '-'}`),
      other: (entry) => seen.push(`other ${entry.kind}`),
    });
  }
  assert.deepEqual(seen, [
    'bytes 6f1c0f5e-8e0a-4b47-9d4c-3f0f2a7d9b10 1900000000123',
    'string owned-jti 1900000000000 eu-west-1_AbC123 a-sub',
    'string not-taken 5 - -',
  ]);
});

test('members this library did not write are skipped, never half-read', () => {
  const good = 's\tok\t123';
  const foreign = [
    '',
    'x',
    's\t\t123', // empty id
    's\ta\tb\t123', // tab in a session id
    's\tabc\t', // no expiry
    's\tabc\t12x3', // not digits
    's\tabc\t99999999999999999999', // not a safe integer
    's\tabc', // no expiry field
    'u\tpool\tsub\t123', // a user entry missing a field
    'o\t\tsub\tid\t123', // an owned session without its pool
    'o\tpool\t\tid\t123', // … without its sub
    'o\tpool\tsub\t\t123', // … without its id
    'o\tpool\tsub\tid', // … without its expiry
    'o\tpool\tsub', // … cut short
    'o\tpool\tsub\tid\textra\t123', // a field too many
    'q\tabc\t123',
  ];
  assert.deepEqual(decodeAll([good, ...foreign, good]), [
    { kind: 'session', originJti: 'ok', expiresAt: 123 },
    { kind: 'session', originJti: 'ok', expiresAt: 123 },
  ]);
});
