// A node:test reporter that writes one JSON line for scripts/run-tests.mjs:
// - `durations`: [[file, milliseconds], …], the time each test file's top-level tests took (they
//   run one after another within a file; process start and imports are not counted), to print
//   the slowest files;
// - `empty`: the files that ran no test. On Node 20 such a file is reported as one passing test
//   named after the file itself, so the pass count alone cannot tell it apart.
export default async function* fileReport(source) {
  const totals = new Map();
  const empty = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, name, details } = event.data;
    if (nesting !== 0 || file === undefined) continue;
    if (event.type === 'test:pass' && name === file) {
      empty.push(file);
      continue;
    }
    totals.set(file, (totals.get(file) ?? 0) + (details?.duration_ms ?? 0));
  }
  yield `${JSON.stringify({ durations: [...totals], empty })}\n`;
}
