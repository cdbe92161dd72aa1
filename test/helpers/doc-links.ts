/**
 * Links of Markdown files, and whether they resolve: a relative link must name a file that exists,
 * and a `#fragment` must name a heading (GitHub's slug rule) or an explicit `<a id>`/`<a name>` of
 * the target file. Links inside code fences and inline code are not links.
 *
 * ```ts
 * const broken = brokenLinks(['README.md', 'docs/cli.md'], ROOT); // ['README.md:12: docs/x.md (no such file)']
 * ```
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** Markdown text without fenced code blocks and inline code spans (same line count). */
function prose(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    if (marker !== undefined) {
      fence = marker;
      return '';
    }
    return line.replace(/(`+)[^`]*?\1/g, '');
  });
}

/** GitHub's heading anchor: lower case, markup and punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link keeps its text
    .replace(/(?<!\\)<[^>]*>/g, '') // HTML tags go; an escaped \\< is text
    .replace(/\\(.)/g, '$1')
    .toLowerCase()
    .trim()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown file offers: heading slugs (with GitHub's -1, -2 for repeats) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (marker !== undefined) {
      fence = marker;
      continue;
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

export interface Link {
  file: string;
  line: number;
  target: string;
}

/** The relative and same-file links of a Markdown file (absolute URLs and mailto: are not checked). */
export function linksOf(markdown: string, file: string): Link[] {
  const links: Link[] = [];
  prose(markdown).forEach((text, index) => {
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ file, line: index + 1, target });
    }
  });
  return links;
}

/** `file:line: target (why)` for every link of these files (relative to root) that does not resolve. */
export function brokenLinks(files: string[], root: string): string[] {
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    let found = anchorCache.get(path);
    if (!found) {
      found = anchorsOf(readFileSync(join(root, path), 'utf8'));
      anchorCache.set(path, found);
    }
    return found;
  };
  const broken: string[] = [];
  for (const file of files) {
    for (const link of linksOf(readFileSync(join(root, file), 'utf8'), file)) {
      const [pathPart = '', fragment] = link.target.split('#', 2);
      const target = pathPart === '' ? file : normalize(join(dirname(file), decodeURIComponent(pathPart)));
      const where = `${link.file}:${link.line}: ${link.target}`;
      if (relative(root, join(root, target)).startsWith('..')) {
        broken.push(`${where} (outside the repository)`);
        continue;
      }
      if (!existsSync(join(root, target))) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (fragment === undefined || fragment === '') continue;
      if (!target.endsWith('.md') || statSync(join(root, target)).isDirectory()) {
        broken.push(`${where} (a #fragment on something that is not a Markdown file)`);
        continue;
      }
      if (!anchors(target).has(decodeURIComponent(fragment))) broken.push(`${where} (no such heading)`);
    }
  }
  return broken;
}
