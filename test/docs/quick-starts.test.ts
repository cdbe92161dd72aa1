/**
 * Each guide in docs/ opens with a quick start (`<!-- doctest: run (quick-start-…) -->`): a script
 * that runs on one machine with the test kit alone, no AWS account and no network beyond
 * 127.0.0.1. Each runs unchanged in a child process (doc-host.ts), must end by itself with exit
 * code 0, and must print exactly what the ```text fence right after it shows, when one does (a
 * quick start that prints timings shows none, and says what it prints in the scenario below).
 * They live apart from run.test.ts so that each file keeps its own time budget.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type Fence,
  fenceAfter,
  markdownFiles,
  QUICK_START,
  ROOT,
  typeScriptBlocks,
} from '../helpers/doc-blocks.ts';
import { createDocProject, type DocProject } from '../helpers/doc-project.ts';
import { startBlock } from '../helpers/doc-run.ts';

const blocks = typeScriptBlocks().filter(
  (block) => block.mode === 'run' && block.scenario!.startsWith(QUICK_START),
);
let project: DocProject;

before(async () => {
  project = await createDocProject(blocks);
});

after(() => project?.dispose());

/** Run the quick start to its end; what it printed must be what its page shows. */
async function quickStart(block: Fence): Promise<string> {
  const { code, stdout, stderr } = await startBlock(project.fileOf(block)).exit();
  assert.equal(code, 0, `${block.id}: the quick start failed\n${stdout}\n${stderr}`);
  const shown = fenceAfter(block);
  if (shown?.lang === 'text') assert.equal(stdout.trim(), shown.code.trim(), `${shown.id}: what it prints`);
  return stdout;
}

const prints = async (block: Fence) => void (await quickStart(block));

const scenarios: Record<string, (block: Fence) => Promise<void>> = {
  'quick-start-verifier': prints,
  'quick-start-authorization': prints,
  'quick-start-frameworks': prints,
  'quick-start-lambda': prints,
  'quick-start-aws-doors': prints,
  'quick-start-alb': prints,
  'quick-start-edge': prints,
  'quick-start-oauth': prints,
  'quick-start-revocation': prints,
  'quick-start-keys': prints,
  'quick-start-tokens': prints,
  'quick-start-mcp': prints,
  'quick-start-sign-in': prints,
  async 'quick-start-performance'(block) {
    const stdout = await quickStart(block);
    assert.match(stdout, /^cache off: [\d.]+ µs per verification\ncache on: [\d.]+ µs per verification\n$/);
  },
};

test('every quick start has a scenario, and every scenario a quick start', () => {
  const marked = blocks.map((block) => block.scenario!).sort();
  assert.deepEqual(marked, [...new Set(marked)].sort(), 'one block per scenario');
  assert.deepEqual(marked, Object.keys(scenarios).sort());
});

test('every guide in docs/ opens with a quick start (its first section)', () => {
  // docs/design/ holds design arguments and docs/from-*.md migration notes (one config side by
  // side): not guides to a door.
  const guides = markdownFiles().filter(
    (file) => file.startsWith('docs/') && !file.startsWith('docs/design/') && !file.startsWith('docs/from-'),
  );
  assert.ok(guides.length >= 10, `only ${guides.length} guides`);
  const firstSection = (file: string) =>
    /^## (.*)$/m.exec(readFileSync(join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, ''))?.[1];
  assert.deepEqual(
    guides.filter((file) => firstSection(file) !== 'Quick start'),
    [],
    'these guides do not open with "## Quick start"',
  );
});

for (const block of blocks) {
  test(`${block.id} (${block.heading}) runs on the test kit alone: ${block.scenario}`, async () => {
    const scenario = scenarios[block.scenario!];
    assert.ok(scenario, `no scenario "${block.scenario}" in test/docs/quick-starts.test.ts`);
    await scenario(block);
  });
}
