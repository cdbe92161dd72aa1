import { parseArgs } from 'node:util';

/** The flags a benchmark run takes. */
export interface BenchArgs {
  quick: boolean;
  json?: string | undefined;
  markdown?: string | undefined;
}

/**
 * Read `--quick`, `--json FILE`, `--markdown FILE` and `--help` (which prints the usage of
 * `command` and exits), shared by `npm run bench` and `npm run bench:serve`.
 */
export function benchArgs(command: string, quickMeans: string, tables: string): BenchArgs {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      markdown: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      `usage: ${command} -- [--quick] [--json FILE] [--markdown FILE]\n` +
        `  --quick     a smoke run: ${quickMeans} (its numbers mean nothing)\n` +
        '  --json      also write every result to FILE\n' +
        `  --markdown  also write ${tables} as Markdown (for the README) to FILE`,
    );
    process.exit(0);
  }
  return { quick: values.quick, json: values.json, markdown: values.markdown };
}
