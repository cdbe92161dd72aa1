/**
 * A scratch consumer project for documentation blocks: a temp folder whose
 * `node_modules/cognito-jwt` is a symlink to the repository (so `cognito-jwt`, `cognito-jwt/express`…
 * resolve through the package's exports map to the BUILT dist/, as they do for a user) and whose
 * other entries link to the project's own node_modules (express, fastify, hono, @types/…).
 *
 * ```ts
 * const project = await createDocProject(typeScriptBlocks());
 * const problems = typeCheck(project); // Map<block id, messages>
 * await project.dispose();
 * ```
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { blockModule, type Fence, ROOT } from './doc-blocks.ts';

export interface DocProject {
  readonly dir: string;
  /** The module file written for a block. */
  fileOf(block: Fence): string;
  dispose(): Promise<void>;
}

/** A strict consumer: what a careful user's tsconfig says. */
export const CONSUMER_OPTIONS = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  module: 'nodenext',
  moduleResolution: 'nodenext',
  moduleDetection: 'force',
  target: 'es2023',
  lib: ['es2023'],
  types: ['node'],
  skipLibCheck: true,
  noEmit: true,
} as const;

const slug = (block: Fence) => `${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-${block.line}`.toLowerCase();

/** Write every block as `<file>-<line>.ts` in a fresh consumer project. Needs dist/ (`npm run build`). */
export async function createDocProject(blocks: Fence[]): Promise<DocProject> {
  if (!existsSync(join(ROOT, 'dist', 'index.js')) || !existsSync(join(ROOT, 'dist', 'index.d.ts'))) {
    throw new Error('the doc tests check the built package: run `npm run build` first');
  }
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-docs-'));
  const modules = join(dir, 'node_modules');
  await mkdir(modules);
  const entries = await readdir(join(ROOT, 'node_modules'));
  await Promise.all(
    entries
      .filter((name) => !name.startsWith('.') && name !== 'cognito-jwt')
      .map((name) => symlink(join(ROOT, 'node_modules', name), join(modules, name), 'dir')),
  );
  await symlink(ROOT, join(modules, 'cognito-jwt'), 'dir');
  await writeFile(
    join(dir, 'package.json'),
    '{ "name": "doc-consumer", "private": true, "type": "module" }\n',
  );
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: CONSUMER_OPTIONS, include: ['*.ts'] }, null, 2),
  );
  await Promise.all(
    blocks.map((block) => writeFile(join(dir, `${slug(block)}.ts`), blockModule(block).source)),
  );
  return {
    dir,
    fileOf: (block) => join(dir, `${slug(block)}.ts`),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Type-check every block of the project in one program. Returns the problems per block id, each
 * message located in the Markdown file (`README.md:57: …`).
 */
export function typeCheck(project: DocProject, blocks: Fence[]): Map<string, string[]> {
  const { options, errors } = ts.convertCompilerOptionsFromJson(CONSUMER_OPTIONS, project.dir);
  if (errors.length > 0) throw new Error(ts.flattenDiagnosticMessageText(errors[0]!.messageText, '\n'));
  const byFile = new Map(blocks.map((block) => [project.fileOf(block), block]));
  const program = ts.createProgram([...byFile.keys()], options);
  const problems = new Map<string, string[]>(blocks.map((block) => [block.id, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const block = diagnostic.file ? byFile.get(diagnostic.file.fileName) : undefined;
    if (!block || diagnostic.start === undefined) {
      const where = diagnostic.file?.fileName ?? 'the program';
      for (const list of problems.values()) list.push(`${where}: ${message}`);
      continue;
    }
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
    const markdownLine = block.line + 1 + line - blockModule(block).offset;
    problems.get(block.id)!.push(`${block.file}:${markdownLine}: TS${diagnostic.code} ${message}`);
  }
  return problems;
}
