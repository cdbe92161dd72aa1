import { parseArgs } from 'node:util';

/** The flags a benchmark run takes. */
export interface BenchArgs {
  quick: boolean;
  json?: string | undefined;
  markdown?: string | undefined;
  /** CPU-bound processes to run beside the measurement (`--background N`), to show how far load moves it. */
  background: number;
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
      background: { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      `usage: ${command} -- [--quick] [--json FILE] [--markdown FILE] [--background N]\n` +
        `  --quick     a smoke run: ${quickMeans} (its numbers mean nothing)\n` +
        '  --json      also write every result to FILE\n' +
        `  --markdown  also write ${tables} as Markdown (for the README) to FILE\n` +
        '  --background N  run N CPU-bound processes beside the measurement (a stated background load)',
    );
    process.exit(0);
  }
  const background = Number(values.background);
  if (!Number.isInteger(background) || background < 0 || background > 16) {
    console.error(`--background takes a whole number from 0 to 16, got ${JSON.stringify(values.background)}`);
    process.exit(2);
  }
  return { quick: values.quick, json: values.json, markdown: values.markdown, background };
}
