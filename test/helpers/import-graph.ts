/**
 * The import graph of src/, for the layout test: every import a module makes (type-only and
 * dynamic ones included), which room each module lives in, and what breaks the design's rules
 * (../shared/DESIGN.md): an import circle, or an import against the direction the rooms run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/**
 * The rooms in the order a token travels, lowest first. A module may import from its own room and
 * from any room ranked below it, never above it nor beside it (two rooms of one rank know nothing
 * of each other). Top-level files are rooms of their own.
 */
export const ROOM_RANKS: Readonly<Record<string, number>> = {
  'errors.ts': 0,
  'options.ts': 1,
  platform: 1,
  token: 2,
  pool: 2,
  net: 2,
  keys: 3,
  verify: 4,
  authz: 5,
  revocation: 5,
  alb: 5,
  oauth: 6,
  session: 7,
  testing: 7,
  adapters: 8,
  service: 9,
  cli: 10,
  'index.ts': 10,
};

/** `#platform` resolves to one implementation per runtime; the graph keeps both. */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  '#platform': ['platform/node.ts', 'platform/web.ts'],
};

/** Module path (relative to the source root, `verify/config.ts`) → the modules it imports. */
export type ImportGraph = Map<string, string[]>;

/** Every `.ts` module under `root` and what each imports from the others. */
export function readImportGraph(root: string): ImportGraph {
  const files = readdirSync(root, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'))
    .sort();
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const source = readFileSync(join(root, file), 'utf8');
    // preProcessFile lists static, type-only, re-export and dynamic `import()` specifiers alike.
    const { importedFiles } = ts.preProcessFile(source, true, true);
    const targets = importedFiles.flatMap(({ fileName }) => resolve(file, fileName));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

function resolve(from: string, specifier: string): readonly string[] {
  if (specifier in ALIASES) return ALIASES[specifier] ?? [];
  if (!specifier.startsWith('.')) return []; // node: built-ins and packages
  return [
    normalize(join(dirname(from), specifier))
      .split('\\')
      .join('/'),
  ];
}

/** The room a module lives in: its first folder, or the file itself at the top. */
export function roomOf(module: string): string {
  const slash = module.indexOf('/');
  return slash === -1 ? module : module.slice(0, slash);
}

/** Every import circle, each as the modules on it in import order (the first one repeated at the end). */
export function findCycles(graph: ImportGraph): string[][] {
  // Tarjan's strongly connected components; a component of two or more modules, or a module
  // that imports itself, holds at least one circle, and one circle through it is reported.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (module: string): void => {
    index.set(module, next);
    low.set(module, next);
    next++;
    stack.push(module);
    onStack.add(module);
    for (const target of graph.get(module) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(module, Math.min(low.get(module) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(module, Math.min(low.get(module) as number, index.get(target) as number));
      }
    }
    if (low.get(module) === index.get(module)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== module);
      const selfImport = graph.get(module)?.includes(module) ?? false;
      if (component.length > 1 || selfImport) components.push(component);
    }
  };
  for (const module of graph.keys()) if (!index.has(module)) visit(module);
  return components.map((component) => circleThrough(graph, new Set(component)));
}

/** One circle inside a strongly connected component, found breadth-first from its first module. */
function circleThrough(graph: ImportGraph, members: ReadonlySet<string>): string[] {
  const start = [...members].sort()[0] as string;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const module = queue.shift() as string;
    for (const target of graph.get(module) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [module];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string);
        return [...path, start];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, module);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

/** Imports against the rooms' direction, each as "from → to (room rank → room rank)". */
export function findUpwardImports(graph: ImportGraph, ranks = ROOM_RANKS): string[] {
  const problems: string[] = [];
  for (const [module, targets] of graph) {
    const room = roomOf(module);
    for (const target of targets) {
      const targetRoom = roomOf(target);
      if (targetRoom === room) continue;
      const from = ranks[room];
      const to = ranks[targetRoom];
      if (from === undefined || to === undefined) {
        problems.push(`${module} → ${target}: room ${from === undefined ? room : targetRoom} has no rank`);
      } else if (to >= from) {
        problems.push(`${module} → ${target} (${room} ${from} may not import ${targetRoom} ${to})`);
      }
    }
  }
  return problems;
}

/** A module path as the test prints it. */
export function shown(root: string, module: string): string {
  return relative(process.cwd(), join(root, module));
}
