import { buildJwks, generateKeyPair } from '../../testing/keys.ts';
import { parseCommand, required, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';
import { writeKeyFile } from '../key-file.ts';
import { printable } from '../text.ts';

const GENERATE_HELP = `Usage: cognito-jwt keys generate -o FILE [--kid KID] [--bits N] [--force]

Make an RSA key pair for TEST tokens (see "cognito-jwt mint"). The private key goes to FILE
(mode 0600) as a JWKS holding one private JWK with a "note" member:
  { "note": "PRIVATE test signing key …", "keys": [{ "kty": "RSA", "kid": …, "alg": "RS256",
    "use": "sig", "n": …, "e": …, "d": …, "p": …, "q": …, "dp": …, "dq": …, "qi": … }] }
The public JWKS is printed on stdout: serve it, or give it to "verify --jwks".

Options:
  -o, --output FILE   where to write the private key (required; never replaced without --force)
  --kid KID           the key id (default: random, Cognito-shaped)
  --bits N            modulus length, 1024 to 8192 (default 2048; verifiers refuse < 2048)
  --force             replace FILE if it exists
  --debug             print the stack of an error
  -h, --help          show this help

Examples:
  cognito-jwt keys generate -o test-key.json > test-jwks.json
  cognito-jwt mint --key test-key.json --user-pool-id us-east-1_Test --client-id app --token-use access

Exit codes: 0 written, 2 usage (FILE exists, bad option).`;

/**
 * `cognito-jwt keys generate`: a private test key file, and its public JWKS on stdout.
 *
 * ```ts
 * await keysGenerateCommand.run(['-o', 'test-key.json'], context);
 * ```
 */
export const keysGenerateCommand: Command = {
  name: 'keys generate',
  summary: 'make a key pair for test tokens (private key file + public JWKS)',
  help: GENERATE_HELP,
  async run(args, { terminal }) {
    const { values } = parseCommand(
      'keys generate',
      args,
      {
        output: { type: 'string', short: 'o' },
        kid: { type: 'string' },
        bits: { type: 'string' },
        force: { type: 'boolean' },
      },
      0,
    );
    const output = required('keys generate', '--output (-o)', values.output);
    const bits = values.bits === undefined ? 2048 : Number(values.bits);
    if (!Number.isInteger(bits) || bits < 1024 || bits > 8192) {
      throw usageError('keys generate', `--bits must be an integer from 1024 to 8192, got ${values.bits}`);
    }
    if (values.kid !== undefined && values.kid.length === 0)
      throw usageError('keys generate', '--kid must not be empty');
    const key = generateKeyPair({
      modulusLength: bits,
      ...(values.kid !== undefined ? { kid: values.kid } : {}),
    });
    await writeKeyFile(output, key, { force: values.force === true });
    terminal.out.line(JSON.stringify(buildJwks(key), null, 2));
    const { err } = terminal;
    err.line(
      `${err.paint('green', '✔')} wrote the PRIVATE test key ${printable(key.kid)} (${bits}-bit RSA) to ${output} (mode 0600); its public JWKS is on stdout`,
    );
    err.line(err.paint(['bold', 'yellow'], '! test keys sign test tokens: never trust them in production'));
    if (bits < 2048)
      err.line(
        err.paint('yellow', `! verifiers refuse keys under 2048 bits: tokens signed with it will fail`),
      );
    return EXIT.ok;
  },
};
