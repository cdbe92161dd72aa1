// A node:test reporter that writes one JSON line: [[file, milliseconds], …], the time each test
// file's top-level tests took (they run one after another within a file; process start and
// imports are not counted). scripts/run-tests.mjs uses it to print the slowest files.
export default async function* fileDurations(source) {
  const totals = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details } = event.data;
    if (nesting !== 0 || file === undefined) continue;
    totals.set(file, (totals.get(file) ?? 0) + (details?.duration_ms ?? 0));
  }
  yield `${JSON.stringify([...totals])}\n`;
}
