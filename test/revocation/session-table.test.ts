import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SessionTable } from '../../src/revocation/session-table.ts';

/** A small deterministic generator, so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) | 0;
    return (state >>> 8) / 0x100_0000;
  };
}

function sorted(table: SessionTable): [string, number][] {
  return [...table.entries()]
    .map(([id, expiresAt]): [string, number] => [id, expiresAt])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('SessionTable', () => {
  test('agrees with a Map through a long random sequence of adds, deletes, sweeps and reserves', () => {
    const next = random(7);
    const uuids = Array.from({ length: 3_000 }, () => randomUUID());
    // Ids the table must keep apart from the UUIDs they resemble: held exactly as given.
    const others = [
      ...uuids.slice(0, 50).map((id) => id.toUpperCase()),
      ...uuids.slice(50, 60).map((id) => `${id.slice(0, 8)}_${id.slice(9)}`),
      ...uuids.slice(60, 70).map((id) => `${id}0`),
      'not-a-uuid',
      '',
      'é'.repeat(36),
    ];
    const ids = [...uuids, ...others];
    const table = new SessionTable();
    const model = new Map<string, number>();
    let now = 1_000;
    for (let step = 0; step < 40_000; step++) {
      const id = ids[Math.floor(next() * ids.length)] as string;
      const roll = next();
      if (roll < 0.55) {
        const expiresAt = now + 1 + Math.floor(next() * 500);
        // The mirror's own pattern: a lookup, then a set of the same id; as a full read does it
        // half the time, from the id's bytes inside a larger member.
        const member = Buffer.from(`s\t${id}\t${expiresAt}`, 'utf8');
        const held =
          next() < 0.5 ? table.getBytes(member, 2, member.length - String(expiresAt).length - 1) : null;
        if (held === null) {
          assert.equal(table.get(id), model.get(id));
          table.set(id, expiresAt);
        } else {
          assert.ok((uuids as string[]).includes(id), 'only a lowercase UUID is read from bytes');
          assert.equal(held, model.get(id));
          table.setLastBytes(expiresAt);
        }
        model.set(id, expiresAt);
      } else if (roll < 0.8) {
        assert.equal(table.delete(id), model.delete(id));
      } else if (roll < 0.98) {
        assert.equal(table.has(id), model.has(id));
      } else if (roll < 0.995) {
        now += Math.floor(next() * 200);
        const dropped: string[] = [];
        table.deleteExpired(now, (gone) => dropped.push(gone));
        const expected = [...model].filter(([, expiresAt]) => expiresAt <= now).map(([gone]) => gone);
        for (const gone of expected) model.delete(gone);
        assert.deepEqual(dropped.sort(), expected.sort());
      } else {
        table.reserve(Math.floor(next() * 8_000));
      }
      assert.equal(table.size, model.size);
      if (step % 5_000 === 0) {
        assert.deepEqual(
          sorted(table),
          [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        );
      }
    }
    for (const id of ids) assert.equal(table.get(id), model.get(id), id);
  });

  test('a full table of one expiry empties in one sweep, and every id comes back spelled as given', () => {
    const table = new SessionTable();
    const ids = Array.from({ length: 20_000 }, () => randomUUID());
    for (const id of ids) table.set(id, 5);
    assert.deepEqual(
      sorted(table).map(([id]) => id),
      [...ids].sort(),
    );
    const dropped: string[] = [];
    assert.equal(
      table.deleteExpired(5, (id) => dropped.push(id)),
      20_000,
    );
    assert.equal(table.size, 0);
    assert.deepEqual(dropped.sort(), [...ids].sort());
  });

  test('a half-full table loses no entry as others leave, whichever clusters (wrapping ones too) they sit in', () => {
    const next = random(11);
    for (let table = 0; table < 20; table++) {
      // 512 ids in the first 1 024 slots: long clusters, some wrapping past the last slot.
      const sessions = new SessionTable();
      const ids = Array.from({ length: 512 }, () => randomUUID());
      for (const id of ids) sessions.set(id, 1);
      while (ids.length > 0) {
        const [gone] = ids.splice(Math.floor(next() * ids.length), 1);
        assert.ok(sessions.delete(gone as string));
        for (const id of ids) assert.ok(sessions.has(id), 'an entry moved out of reach');
      }
      assert.equal(sessions.size, 0);
    }
  });

  test('an owner stays with its id through updates, moves and growth, and is told when the id expires', () => {
    const table = new SessionTable();
    const ids = [...Array.from({ length: 3_000 }, () => randomUUID()), 'not-a-uuid', 'ABC'];
    ids.forEach((id, i) => {
      table.set(id, 10 + (i % 2), i + 1);
    });
    // An update without an owner keeps it.
    for (const id of ids) table.set(id, (table.get(id) as number) + 100);
    const owners = new Map([...table.entries()].map(([id, , owner]) => [id, owner]));
    ids.forEach((id, i) => {
      assert.equal(owners.get(id), i + 1);
    });
    assert.equal(owners.has(randomUUID()), false);
    const told = new Map<string, number>();
    table.deleteExpired(110, (id, owner) => told.set(id, owner));
    const left = new Map([...table.entries()].map(([id, , owner]) => [id, owner]));
    ids.forEach((id, i) => {
      if (i % 2 === 0) assert.equal(told.get(id), i + 1);
      else assert.equal(left.get(id), i + 1);
    });
    for (const [id, , owner] of table.entries()) assert.equal(owner, ids.indexOf(id) + 1);
  });

  test('set answers the slot that holds an id, and each owned entry that moves is told with its new slot', () => {
    const slots = new Map<number, number>();
    const table = new SessionTable((owner, slot) => slots.set(owner, slot));
    const ids = Array.from({ length: 3_000 }, () => randomUUID());
    ids.forEach((id, i) => {
      const slot = table.set(id, 10 + (i % 2), i + 1);
      assert.equal(table.idAt(slot), id);
      slots.set(i + 1, slot);
    });
    assert.equal(table.set('not-a-uuid', 10, 9_999), -1);
    // Growth moved every entry, and expiry closes gaps by moving later ones back.
    table.deleteExpired(10, () => {});
    ids.forEach((id, i) => {
      if (i % 2 === 1) assert.equal(table.idAt(slots.get(i + 1) as number), id);
    });
  });

  test("reserve takes a count from outside (the store's) only up to its cap, and the table still grows past it", () => {
    const table = new SessionTable();
    // Uncapped, room for this many would be a RangeError (or gigabytes): the cap makes it 320 MB at most.
    table.reserve(Number.MAX_SAFE_INTEGER);
    table.reserve(-5);
    table.reserve(Number.NaN);
    const id = randomUUID();
    table.set(id, 3);
    assert.equal(table.get(id), 3);
  });

  test('setLastBytes without the getBytes of that id just before it is refused', () => {
    const table = new SessionTable();
    const id = Buffer.from(randomUUID());
    assert.equal(table.getBytes(id, 0, 36), undefined);
    table.set(randomUUID(), 5); // the table changed since
    assert.throws(() => table.setLastBytes(9), /must follow getBytes/);
    assert.equal(table.getBytes(Buffer.from('ABCDEF00-0000-4000-8000-000000000000'), 0, 36), null);
  });

  test('a lookup of a string that is almost a UUID does not disturb the set that follows it', () => {
    const table = new SessionTable();
    const id = randomUUID();
    assert.equal(table.get(id), undefined);
    // Parsed part of the way, then refused: the words of `id` must survive it.
    assert.equal(table.has(`${id.slice(0, 35)}G`), false);
    table.set(id, 10);
    assert.equal(table.get(id), 10);
    assert.equal(table.has(`${id.slice(0, 35)}G`), false);
    assert.deepEqual([...table.entries()], [[id, 10, 0]]);
  });

  test('any 36-character string is either found exactly or not at all (fast-check)', () => {
    const table = new SessionTable();
    const held = randomUUID();
    table.set(held, 1);
    fc.assert(
      fc.property(fc.string({ minLength: 36, maxLength: 36, unit: 'binary' }), (id) => {
        assert.equal(table.has(id), id === held);
      }),
    );
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        assert.equal(table.has(id), id === held);
        table.set(id, 2);
        assert.equal(table.get(id), 2);
        assert.ok(table.delete(id));
      }),
    );
    assert.deepEqual([...table.entries()], [[held, 1, 0]]);
  });
});
