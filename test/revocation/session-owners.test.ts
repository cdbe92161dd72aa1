import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { SessionOwners } from '../../src/revocation/session-owners.ts';
import { SessionTable } from '../../src/revocation/session-table.ts';

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 0x1_0000_0000;
  };
}

/** A session table and its owners, wired as the mirror wires them. */
function wired(): { table: SessionTable; owners: SessionOwners } {
  const table: SessionTable = new SessionTable((owner, slot) => owners.moved(owner, slot));
  const owners = new SessionOwners(table);
  return { table, owners };
}

const POOLS = ['eu-west-1_OwnersA', 'eu-west-1_OwnersB'];

describe('SessionOwners', () => {
  test('every user keeps exactly its sessions, pool and sub while both tables grow, close gaps and expire entries', () => {
    const next = random(21);
    const { table, owners } = wired();
    // The truth: each session's owner, and each user's sessions.
    const ownerOf = new Map<string, { pool: string; sub: string }>();
    const sessionsOf = new Map<string, Set<string>>();
    const userKey = (pool: string, sub: string) => `${pool} ${sub}`;
    // Mostly UUIDs (the slot-tracked way), some other spellings (kept aside); a few users sign in often.
    const users = Array.from({ length: 3_000 }, (_, i) => ({
      pool: POOLS[i % 2] as string,
      sub: i % 50 === 0 ? `Sub-${i}` : randomUUID(),
    }));
    const add = (expiresAt: number) => {
      const user = users[
        next() < 0.2 ? Math.floor(next() * 20) : Math.floor(next() * users.length)
      ] as (typeof users)[0];
      const id = next() < 0.05 ? `session-${ownerOf.size}-${next()}` : randomUUID();
      const index = owners.user(user.pool, user.sub);
      owners.attach(index, table.set(id, expiresAt, index), id);
      ownerOf.set(id, user);
      const key = userKey(user.pool, user.sub);
      sessionsOf.set(key, (sessionsOf.get(key) ?? new Set()).add(id));
    };
    const forget = (id: string) => {
      const owner = ownerOf.get(id) as { pool: string; sub: string };
      ownerOf.delete(id);
      const key = userKey(owner.pool, owner.sub);
      sessionsOf.get(key)?.delete(id);
      if (sessionsOf.get(key)?.size === 0) sessionsOf.delete(key);
    };
    const check = () => {
      for (const [id, , index] of table.entries()) {
        const owner = ownerOf.get(id);
        assert.deepEqual(owners.owner(index), owner && { userPoolId: owner.pool, sub: owner.sub });
      }
      for (const user of users) {
        const expected = [...(sessionsOf.get(userKey(user.pool, user.sub)) ?? [])].sort();
        const index = owners.find(user.pool, user.sub);
        assert.equal(index === 0, expected.length === 0);
        assert.deepEqual(owners.ids(index).sort(), expected);
      }
      for (const pool of POOLS) {
        const several = users
          .filter((user) => user.pool === pool && (sessionsOf.get(userKey(pool, user.sub))?.size ?? 0) > 1)
          .map((user) => user.sub);
        assert.deepEqual(owners.several(pool).sort(), several.sort());
      }
    };
    for (let i = 0; i < 6_000; i++) add(10 + (i % 3));
    check();
    // Deletions move later entries of a cluster back: their owners must follow.
    for (const id of [...ownerOf.keys()].filter(() => next() < 0.3)) {
      const owner = ownerOf.get(id) as { pool: string; sub: string };
      assert.ok(table.delete(id));
      owners.detach(owners.find(owner.pool, owner.sub), id);
      forget(id);
    }
    check();
    table.deleteExpired(10, (id, index) => {
      owners.detach(index, id);
      forget(id);
    });
    check();
    // Freed user indexes are reused by new users without mixing them up.
    for (let i = 0; i < 3_000; i++) add(20);
    check();
  });

  test('a user not in a pool has index 0, which owns nothing', () => {
    const { owners } = wired();
    assert.equal(owners.find(POOLS[0] as string, randomUUID()), 0);
    assert.deepEqual(owners.ids(0), []);
    assert.equal(owners.owner(0), undefined);
    assert.deepEqual(owners.several(POOLS[1] as string), []);
  });

  test('userBytes finds and makes the same users as user, and leaves a sub that is not a lowercase UUID to the string way', () => {
    const { table, owners } = wired();
    const pool = POOLS[0] as string;
    const sub = randomUUID();
    const bytes = Buffer.from(`x${sub}y`);
    // A pool without users yet: the string way first.
    assert.equal(owners.userBytes(pool, bytes, 1, 37), undefined);
    const first = owners.user(pool, randomUUID());
    owners.attach(first, table.set(randomUUID(), 5, first));
    const made = owners.userBytes(pool, bytes, 1, 37) as number;
    assert.ok(made > 0 && made !== first);
    assert.equal(owners.user(pool, sub), made);
    assert.equal(owners.find(pool, sub), made);
    assert.deepEqual(owners.owner(made), { userPoolId: pool, sub });
    assert.equal(owners.userBytes(pool, Buffer.from(sub.toUpperCase()), 0, 36), undefined);
  });
});
