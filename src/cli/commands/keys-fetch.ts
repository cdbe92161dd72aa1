import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { JWKS_EVENTS, type JwksEventMessages } from '../../keys/events.ts';
import { JwksCache } from '../../keys/jwks-cache.ts';
import { resolveConfig } from '../../verify/config.ts';
import { parseCommand, required, urlOption, userPoolIdOption } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';
import { printable } from '../text.ts';

const FETCH_HELP = `Usage: cognito-jwt keys fetch --user-pool-id ID [--issuer URL] [-o FILE]

Fetch the pool's JWKS, check every key the way the verifier does, and save the usable keys
as a snapshot: the format "verify --jwks FILE" and the library's loadSnapshot() read, so a
service can start (or a token be checked) without the network.

Options:
  --user-pool-id ID   the pool, e.g. eu-west-1_AbC123
  --issuer URL        the issuer, for emulators (http: only on loopback); the JWKS is
                      {issuer}/.well-known/jwks.json
  -o, --output FILE   write the snapshot there (default: stdout)
  --debug             print the stack of an error
  -h, --help          show this help

Examples:
  cognito-jwt keys fetch --user-pool-id eu-west-1_AbC123 -o jwks.json
  cognito-jwt keys fetch --user-pool-id local_4Ab5 --issuer http://127.0.0.1:9229/local_4Ab5

Exit codes: 0 saved, 2 usage, 3 the JWKS cannot be fetched or holds no usable key.`;

/**
 * `cognito-jwt keys fetch`: save a validated JWKS snapshot of a pool.
 *
 * ```ts
 * await keysFetchCommand.run(['--user-pool-id', 'eu-west-1_AbC123', '-o', 'jwks.json'], context);
 * ```
 */
export const keysFetchCommand: Command = {
  name: 'keys fetch',
  summary: "fetch a pool's JWKS and save a validated snapshot",
  help: FETCH_HELP,
  async run(args, { terminal }) {
    const { values } = parseCommand(
      'keys fetch',
      args,
      {
        'user-pool-id': { type: 'string' },
        issuer: { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
      0,
    );
    const userPoolId = userPoolIdOption(
      'keys fetch',
      required('keys fetch', '--user-pool-id', values['user-pool-id']),
    );
    const [entry] = resolveConfig(
      {
        userPoolId,
        clientId: null,
        tokenUse: null,
        ...(values.issuer !== undefined
          ? { issuer: urlOption('keys fetch', '--issuer', values.issuer) }
          : {}),
      },
      0,
    );
    const { jwksUri } = entry!;
    const cache = new JwksCache();
    const rejected: string[] = [];
    const onRejected = (message: unknown) => {
      const event = message as JwksEventMessages['keyRejected'];
      if (event.jwksUri === jwksUri) rejected.push(event.error.message);
    };
    subscribe(JWKS_EVENTS.keyRejected, onRejected);
    try {
      await cache.load(jwksUri);
    } finally {
      unsubscribe(JWKS_EVENTS.keyRejected, onRejected);
    }
    const snapshot = cache.snapshot(jwksUri);
    const { out, err } = terminal;
    if (values.output === undefined) out.line(JSON.stringify(snapshot, null, 2));
    else await cache.saveSnapshot(jwksUri, values.output);
    const kids = snapshot.keys.map((key) => printable(key.kid)).join(', ');
    const where = values.output === undefined ? 'stdout' : values.output;
    err.line(
      `${err.paint('green', '✔')} ${snapshot.keys.length} usable key${snapshot.keys.length === 1 ? '' : 's'} from ${jwksUri} saved to ${where}: ${kids}`,
    );
    for (const reason of rejected) err.line(err.paint('yellow', `! left out: ${printable(reason)}`));
    return EXIT.ok;
  },
};
