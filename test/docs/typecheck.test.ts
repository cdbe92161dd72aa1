/**
 * Every ```ts block of README.md and docs/** type-checks, as a module of its own, in a strict
 * consumer project that imports the BUILT package by its name (`cognito-jwt`, `cognito-jwt/express`…).
 * A block that cannot compile alone says why in a `<!-- doctest: skip (…) -->` marker; a fragment
 * names what it assumes in `<!-- doctest: given (…) -->` (see test/helpers/doc-blocks.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Fence, typeScriptBlocks } from '../helpers/doc-blocks.ts';
import { createDocProject, type DocProject, typeCheck } from '../helpers/doc-project.ts';

const blocks = typeScriptBlocks();
const checked = blocks.filter((block) => block.mode !== 'skip');
let project: DocProject;
let problems: Map<string, string[]>;

before(async () => {
  project = await createDocProject(checked);
  problems = typeCheck(project, checked);
});

after(() => project?.dispose());

test('the documentation has TypeScript blocks, and most of them are checked', (t) => {
  const run = blocks.filter((block) => block.mode === 'run').length;
  t.diagnostic(
    `${blocks.length} TypeScript blocks: ${checked.length} type-checked (${run} of them also run), ${blocks.length - checked.length} skipped`,
  );
  assert.ok(checked.length >= 20, `only ${checked.length} blocks are type-checked`);
});

test('every skipped block says why', () => {
  const silent = blocks.filter((block) => block.mode === 'skip' && (block.reason ?? '').length < 8);
  assert.deepEqual(
    silent.map((block) => block.id),
    [],
  );
});

for (const block of checked) {
  test(`${block.id} (${block.heading}) type-checks against the built package`, () => {
    const found = problems.get(block.id) ?? [];
    assert.equal(found.length, 0, `\n${found.join('\n')}\n--- the block ---\n${describe(block)}`);
  });
}

function describe(block: Fence): string {
  return block.code
    .split('\n')
    .map((line, index) => `${String(block.line + 1 + index).padStart(5)} | ${line}`)
    .join('\n');
}
