import { fetchJwks } from '../../keys/fetch-jwks.ts';
import { checkUrl } from '../../pool/url.ts';
import { parseCommand, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';
import { isUrl, readJsonFile } from '../input.ts';
import { describeJwks, type JwksReport } from '../jwks-report.ts';
import { type Channel, rows } from '../output.ts';
import { printable } from '../text.ts';

/** The limits of the library's JWKS cache defaults, for reading a JWKS that is shown, not cached. */
const FETCH_TIMEOUT_MS = 5_000;
const MAX_JWKS_BYTES = 1024 * 1024;

const SHOW_HELP = `Usage: cognito-jwt keys show FILE|URL [--json]

List the keys of a JWKS (a file, a snapshot saved by "keys fetch", or a URL): kid, type,
algorithm, key size, and problems a verifier would refuse a key for: keys smaller than
2048 bits, private members (a private key published by mistake), duplicate kids, a type
or algorithm other than RSA/RS256.

Options:
  --json       print the report as JSON
  --debug      print the stack of an error
  -h, --help   show this help

Examples:
  cognito-jwt keys show jwks.json
  cognito-jwt keys show https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json

Exit codes: 0 every key usable, 1 some key has a problem (or there is none), 2 usage,
3 the JWKS cannot be fetched or is not a JWKS.`;

/**
 * `cognito-jwt keys show`: list a JWKS's keys and their problems.
 *
 * ```ts
 * const exitCode = await keysShowCommand.run(['jwks.json', '--json'], context); // 1 when a key has a problem
 * ```
 */
export const keysShowCommand: Command = {
  name: 'keys show',
  summary: 'list the keys of a JWKS file or URL, with their problems',
  help: SHOW_HELP,
  async run(args, { terminal }) {
    const { values, positionals } = parseCommand('keys show', args, { json: { type: 'boolean' } }, 1);
    const source = positionals[0];
    if (source === undefined) throw usageError('keys show', 'give a JWKS file or URL');
    const report = describeJwks(await readJwks(source));
    if (values.json) terminal.out.line(JSON.stringify({ source, ...report }, null, 2));
    else renderJwks(terminal.out, source, report);
    return report.problemKeys > 0 || report.keys.length === 0 ? EXIT.invalid : EXIT.ok;
  },
};

async function readJwks(source: string): Promise<unknown> {
  if (!isUrl(source)) return readJsonFile(source, 'the JWKS file');
  const options = { fetch: globalThis.fetch, timeoutMs: FETCH_TIMEOUT_MS, maxBytes: MAX_JWKS_BYTES };
  return (await fetchJwks(checkUrl('the JWKS URL', source), options)).body;
}

function renderJwks(out: Channel, source: string, report: JwksReport): void {
  const count = report.keys.length;
  out.line(out.paint('bold', `${count} key${count === 1 ? '' : 's'} in ${printable(source)}`));
  if (report.jwksUri) {
    out.line(`  snapshot of ${printable(report.jwksUri)} taken ${printable(report.fetchedAt ?? '?')}`);
  }
  out.line();
  for (const key of report.keys) {
    const mark = key.usable ? out.paint('green', '✔') : out.paint('red', '✗');
    out.line(`${mark} kid ${printable(key.kid ?? '(none)')}`);
    const type = [key.kty ?? '?', key.alg ?? '(no alg)', key.use ? `use ${key.use}` : ''].join(' ').trim();
    rows(out, [
      ['type', printable(type)],
      ['size', key.bits === undefined ? '?' : `${key.bits} bits`],
    ]);
    for (const problem of key.problems) out.line(`  ${out.paint('red', `problem: ${printable(problem)}`)}`);
  }
  out.line();
  const summary = `${report.usableKeys} usable, ${report.problemKeys} with problems`;
  out.line(out.paint(report.problemKeys > 0 || count === 0 ? 'red' : 'green', summary));
}
