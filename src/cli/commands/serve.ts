import { RevocationList, requireRedisPackage } from '../../revocation/list.ts';
import { runService } from '../../service/cluster.ts';
import { ENVIRONMENT, LOG_LEVELS, loadServiceConfig } from '../../service/config.ts';
import { ENDPOINTS } from '../../service/contracts.ts';
import { loadPromClient } from '../../service/metrics.ts';
import { checkOptionalPeers, describeService } from '../../service/preflight.ts';
import { CognitoVerifier } from '../../verify/verifier.ts';
import { integerOption, oneOf, parseCommand, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT, type ExitCode } from '../exit-code.ts';

const ENDPOINT_HELP: [string, string][] = [
  [ENDPOINTS.nginx, 'nginx auth_request (X-Original-Method/-URI)'],
  [ENDPOINTS.ingressNginx, 'ingress-nginx auth-url (X-Original-Method/-URL)'],
  [ENDPOINTS.forward, 'Traefik forwardAuth, Caddy forward_auth (X-Forwarded-Method/-Uri)'],
  ['/envoy/...', 'Envoy ext_authz HTTP service (path_prefix /envoy; see envoyPathPrefix)'],
];

const HELP = `Usage: cognito-jwt serve [--config FILE] [--check] [--host H] [--port P] [--workers N]
                         [--log-level debug|info|warn|error|silent]

Run the verification service: an HTTP server that answers "may this request pass?" for
nginx (auth_request), Traefik (forwardAuth), Caddy (forward_auth) and Envoy (ext_authz),
with every check of the library, route rules, identity headers for the upstream, health,
readiness and Prometheus metrics. See docs/service.md for the config file and the proxy
configs.

Endpoints:
${ENDPOINT_HELP.map(([path, what]) => `  ${path.padEnd(21)}${what}`).join('\n')}
  /healthz /readyz /metrics

Options:
  --config FILE       the JSON config file (or COGNITO_JWT_CONFIG)
  --check             check the config (and load its JWKS snapshots), print a summary, exit
  --host H            listen on this address (default 127.0.0.1)
  --port P            listen on this port (default 9180; 0 picks a free one)
  --workers N         worker processes (default: the number of cores); each holds its own caches
  --log-level L       the least severe log line written (default info)
  --debug             print the stack of an error
  -h, --help          show this help

Environment (wins over the file; flags win over both):
${Object.entries(ENVIRONMENT)
  .map(([name, what]) => `  ${name.padEnd(26)}${what}`)
  .join('\n')}

Examples:
  cognito-jwt serve --config /etc/cognito-jwt/service.json --check
  cognito-jwt serve --config service.json --workers 2
  COGNITO_JWT_USER_POOL_ID=eu-west-1_AbC123 COGNITO_JWT_CLIENT_ID=1example23456789 \\
    COGNITO_JWT_TOKEN_USE=access cognito-jwt serve --port 9180

Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), or the config is valid (--check);
2 usage or configuration (including an unreadable JWKS snapshot).`;

const OPTIONS = {
  config: { type: 'string' },
  check: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  workers: { type: 'string' },
  'log-level': { type: 'string' },
} as const;

/**
 * `cognito-jwt serve`: the verification service for proxies.
 *
 * ```ts
 * const exitCode = await serveCommand.run(['--config', 'service.json', '--check'], context);
 * ```
 */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the verification service for nginx, Envoy, Traefik and Caddy',
  help: HELP,
  async run(args, { terminal }): Promise<ExitCode> {
    const { values } = parseCommand('serve', args, OPTIONS, 0);
    // Checked here, so a mistake names the flag typed, not the variable it stands for.
    if (values.host === '') throw usageError('serve', '--host must not be empty');
    if (values.port !== undefined) integerOption('serve', '--port', values.port, 0, 65535);
    if (values.workers !== undefined) integerOption('serve', '--workers', values.workers, 1, 256);
    if (values['log-level'] !== undefined) oneOf('serve', '--log-level', values['log-level'], LOG_LEVELS);
    // Flags become the environment variables they stand for, which win over the file.
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (values.host !== undefined) env.COGNITO_JWT_HOST = values.host;
    if (values.port !== undefined) env.COGNITO_JWT_PORT = values.port;
    if (values.workers !== undefined) env.COGNITO_JWT_WORKERS = values.workers;
    if (values['log-level'] !== undefined) env.COGNITO_JWT_LOG_LEVEL = values['log-level'];
    const settings = await loadServiceConfig(values.config, env);
    // A Redis revocation list needs the optional `redis` package: say so now, with the command that installs it.
    if (
      settings.revocation !== undefined &&
      settings.revocation.store !== 'memory' &&
      settings.revocation.redis
    ) {
      await requireRedisPackage();
    }
    if (values.check) {
      // Building the verifier loads every JWKS snapshot the config names, as serving would.
      const verifier = new CognitoVerifier(settings.pools, { ...settings.keys });
      // The revocation list checks its options when it is created; closed at once, before any connection is used.
      if (settings.revocation) await new RevocationList(settings.revocation).close();
      await checkOptionalPeers(settings);
      const { out } = terminal;
      out.line(`${out.paint('green', '✔')} config valid`);
      const promClient = (await loadPromClient()) !== undefined;
      for (const line of describeService(settings, verifier, promClient)) out.line(line);
      return EXIT.ok;
    }
    return (await runService(settings)) === 0 ? EXIT.ok : EXIT.usage;
  },
};
