/**
 * The fenced code blocks of the project's Markdown (README.md and docs/**, except the generated
 * docs/api), with the `<!-- doctest: … -->` markers written right before them. The doc tests read
 * every block through here, so a section added tomorrow is checked without touching a test.
 *
 * Markers (several may precede one fence, blank lines between them are allowed):
 * - `<!-- doctest: skip (why) -->`: not type-checked; the reason is required.
 * - `<!-- doctest: run (scenario) -->`: type-checked, and run by the scenario of that name in
 *   test/docs/run.test.ts against a loopback pool.
 * - `<!-- doctest: given (token: string; verifier: import('cognito-jwt').CognitoVerifier) -->`: the
 *   block uses these names without defining them (a fragment); each becomes
 *   `const name: type = <value the runner passes>` in front of the block.
 *
 * ```ts
 * for (const block of typeScriptBlocks()) console.log(block.id, block.mode);
 * ```
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Markdown generated from the TSDoc: its examples are TSDoc fragments, not documentation blocks. */
const GENERATED = 'docs/api/';

export interface Given {
  name: string;
  type: string;
}

export interface Fence {
  /** `README.md:53`: the file and the line of the opening fence. */
  id: string;
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word, lower case (`ts`, `json`, `sh`, or `''`). */
  lang: string;
  code: string;
  /** The nearest heading above the fence. */
  heading: string;
  mode: 'check' | 'run' | 'skip';
  /** Why a block is skipped. */
  reason?: string;
  /** The run scenario that runs it. */
  scenario?: string;
  given: Given[];
}

/**
 * Run scenarios named `quick-start-…` are the quick starts that open the guides: scripts on the test
 * kit alone, run by test/docs/quick-starts.test.ts; the other scenarios by test/docs/run.test.ts.
 */
export const QUICK_START = 'quick-start-';

const MARKER = /^\s*<!--\s*doctest:\s*(.*?)\s*-->\s*$/;
const DIRECTIVE = /^(skip|run|given)\s*\((.*)\)$/s;
const TYPESCRIPT = new Set(['ts', 'typescript']);

/** Every Markdown file the doc tests read, relative to the root: README.md, then docs/** in order. */
export function markdownFiles(root = ROOT): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true })
    .map((path) => join('docs', String(path)).replaceAll('\\', '/'))
    .filter((path) => path.endsWith('.md') && !path.startsWith(GENERATED))
    .sort();
  return ['README.md', ...docs];
}

/** The fences of one Markdown text. A marker that does not precede a fence, or says something unknown, throws. */
export function extractFences(markdown: string, file: string): Fence[] {
  const lines = markdown.split('\n');
  const fences: Fence[] = [];
  let heading = '';
  let pending: { line: number; directive: string }[] = [];
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    const marker = MARKER.exec(text);
    if (marker) {
      pending.push({ line: index + 1, directive: marker[1]! });
      continue;
    }
    if (/^#{1,6}\s/.test(text)) heading = text.replace(/^#+\s*/, '');
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(text);
    if (!open) {
      if (text.trim() !== '' && pending.length > 0) throw orphan(file, pending[0]!.line);
      continue;
    }
    const [, indent = '', ticks = '```', info = ''] = open;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !lines[end]!.trim().startsWith(ticks)) {
      const line = lines[end]!;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
      end++;
    }
    if (end >= lines.length) throw new Error(`${file}:${index + 1}: the code fence is never closed`);
    const fence: Fence = {
      id: `${file}:${index + 1}`,
      file,
      line: index + 1,
      lang: info.toLowerCase(),
      code: `${body.join('\n')}\n`,
      heading,
      mode: 'check',
      given: [],
    };
    for (const { line, directive } of pending) applyDirective(fence, directive, `${file}:${line}`);
    if (pending.length > 0 && !TYPESCRIPT.has(fence.lang)) throw orphan(file, pending[0]!.line);
    pending = [];
    fences.push(fence);
    index = end;
  }
  if (pending.length > 0) throw orphan(file, pending[0]!.line);
  return fences;
}

function orphan(file: string, line: number): Error {
  return new Error(`${file}:${line}: a doctest marker must come right before a \`\`\`ts fence`);
}

function applyDirective(fence: Fence, directive: string, where: string): void {
  const parsed = DIRECTIVE.exec(directive);
  const argument = parsed?.[2]?.trim() ?? '';
  if (!parsed || argument === '') {
    throw new Error(
      `${where}: unknown doctest marker "${directive}": use skip (reason), run (scenario) or given (name: type; …)`,
    );
  }
  const kind = parsed[1] as 'skip' | 'run' | 'given';
  if (kind === 'given') {
    for (const declaration of argument.split(';').map((part) => part.trim())) {
      const match = /^([A-Za-z_$][\w$]*)\s*:\s*(.+)$/s.exec(declaration);
      if (!match) throw new Error(`${where}: "given" wants "name: type", found "${declaration}"`);
      fence.given.push({ name: match[1]!, type: match[2]!.trim() });
    }
    return;
  }
  if (fence.mode !== 'check') throw new Error(`${where}: a block is either skipped or run, not both`);
  fence.mode = kind;
  if (kind === 'skip') fence.reason = argument;
  else fence.scenario = argument;
}

/** Every fence of every documentation file. */
export function allFences(root = ROOT): Fence[] {
  return markdownFiles(root).flatMap((file) =>
    extractFences(readFileSync(join(root, file), 'utf8'), relative(root, join(root, file))),
  );
}

/** The TypeScript blocks (```ts and ```typescript) of every documentation file. */
export function typeScriptBlocks(root = ROOT): Fence[] {
  return allFences(root).filter((fence) => TYPESCRIPT.has(fence.lang));
}

/** The first fence after `block` in the same file (where a section shows the answers of its code). */
export function fenceAfter(block: Fence, root = ROOT): Fence | undefined {
  return allFences(root).find((fence) => fence.file === block.file && fence.line > block.line);
}

/**
 * The block's code as a module of its own: the `given` names first, one line each, valued from
 * the `DOCTEST_GIVEN` environment variable (JSON) when it runs. Returns the number of lines added
 * so that diagnostics map back to the Markdown.
 */
export function blockModule(block: Fence): { source: string; offset: number } {
  const prelude = block.given.map(
    ({ name, type }) =>
      `const ${name}: ${type} = (JSON.parse(process.env.DOCTEST_GIVEN ?? '{}') as Record<string, any>).${name};`,
  );
  return {
    source: `${prelude.join('\n')}${prelude.length > 0 ? '\n' : ''}${block.code}`,
    offset: prelude.length,
  };
}
