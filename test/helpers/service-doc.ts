/**
 * The proxy configs exactly as docs/service.md prints them, with only the addresses swapped for
 * the test's loopback ports, so the doc is what the proxy tests run. A substitution that no longer
 * finds its text throws: a doc change that the tests cannot follow fails loudly instead of testing
 * something else.
 *
 * ```ts
 * const block = serviceDocBlock('nginx', 'nginx'); // the server block under "### nginx"
 * ```
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractFences, ROOT } from './doc-blocks.ts';

export const SERVICE_DOC = 'docs/service.md';

/** Every fenced block of language `lang` under the heading `heading` in docs/service.md, in order. */
export function serviceDocBlocks(heading: string, lang: string): string[] {
  return extractFences(readFileSync(join(ROOT, SERVICE_DOC), 'utf8'), SERVICE_DOC)
    .filter((fence) => fence.heading === heading && fence.lang === lang)
    .map((fence) => fence.code);
}

/** The one fenced block of language `lang` under the heading `heading` in docs/service.md. */
export function serviceDocBlock(heading: string, lang: string): string {
  const blocks = serviceDocBlocks(heading, lang);
  if (blocks.length !== 1) {
    throw new Error(
      `${SERVICE_DOC}: expected one \`\`\`${lang} block under "${heading}", found ${blocks.length}`,
    );
  }
  return blocks[0]!;
}

/** `text` with each `[from, to]` replaced; every `from` must occur exactly once. */
export function substitute(text: string, replacements: readonly (readonly [string, string])[]): string {
  let out = text;
  for (const [from, to] of replacements) {
    const count = out.split(from).length - 1;
    if (count !== 1)
      throw new Error(`${SERVICE_DOC}: expected "${from}" once in the block, found it ${count} times`);
    out = out.replace(from, to);
  }
  return out;
}
