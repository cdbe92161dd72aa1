import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  findCycles,
  findUpwardImports,
  type ImportGraph,
  ROOM_RANKS,
  readImportGraph,
  shown,
} from './helpers/import-graph.ts';

const SRC = join(import.meta.dirname, '..', 'src');

describe('the imports of src/', () => {
  const graph = readImportGraph(SRC);

  test('every room has a rank', () => {
    const rooms = new Set([...graph.keys()].map((module) => module.split('/')[0] as string));
    assert.deepEqual(
      [...rooms].filter((room) => !(room in ROOM_RANKS)),
      [],
      'a new folder needs its place in ROOM_RANKS (test/helpers/import-graph.ts)',
    );
  });

  test('form no circle, type-only and dynamic imports included', () => {
    const circles = findCycles(graph).map((circle) => circle.map((module) => shown(SRC, module)).join(' → '));
    assert.deepEqual(circles, []);
  });

  test('run only in the direction of the design (a room imports only rooms below it)', () => {
    assert.deepEqual(findUpwardImports(graph), []);
  });

  test('the graph sees what it must: the dynamic import of the Redis store, type-only imports, #platform', () => {
    assert.ok(graph.get('revocation/list.ts')?.includes('revocation/redis-store.ts'));
    assert.ok(graph.get('verify/config.ts')?.includes('token/claims.ts'), 'a type-only import');
    assert.ok(graph.get('verify/verifier.ts')?.includes('platform/node.ts'));
    assert.ok(graph.get('verify/verifier.ts')?.includes('platform/web.ts'));
  });
});

describe('the checks find what they look for', () => {
  const graph: ImportGraph = new Map([
    ['verify/a.ts', ['verify/b.ts']],
    ['verify/b.ts', ['verify/c.ts', 'keys/k.ts']],
    ['verify/c.ts', ['verify/a.ts']],
    ['keys/k.ts', ['verify/a.ts']],
    ['token/t.ts', ['pool/p.ts']],
    ['pool/p.ts', []],
  ]);

  test('a circle, and a module importing itself, named file by file', () => {
    const circles = findCycles(graph);
    assert.deepEqual(circles.map((circle) => circle.join(' → ')).sort(), [
      'keys/k.ts → verify/a.ts → verify/b.ts → keys/k.ts',
    ]);
    const withoutRoomCircle: ImportGraph = new Map([
      ['keys/k.ts', ['keys/k.ts']],
      ['verify/a.ts', ['verify/b.ts']],
      ['verify/b.ts', ['verify/a.ts']],
    ]);
    assert.deepEqual(
      findCycles(withoutRoomCircle)
        .map((circle) => circle.join(' → '))
        .sort(),
      ['keys/k.ts → keys/k.ts', 'verify/a.ts → verify/b.ts → verify/a.ts'],
    );
  });

  test('an import up the layers, and one between rooms of the same rank', () => {
    assert.deepEqual(findUpwardImports(graph), [
      'keys/k.ts → verify/a.ts (keys 3 may not import verify 4)',
      'token/t.ts → pool/p.ts (token 2 may not import pool 2)',
    ]);
  });

  test('a room without a rank is named', () => {
    assert.deepEqual(findUpwardImports(new Map([['lost/x.ts', ['verify/a.ts']]])), [
      'lost/x.ts → verify/a.ts: room lost has no rank',
    ]);
  });
});
