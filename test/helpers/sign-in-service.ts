/**
 * The parts behind a proxy in the sign-in tests through `serve`: the Cognito-like provider, the
 * service with a `session` block (sessions in Redis or in the cookie), and an echo upstream. The
 * app's public origin is `http://localhost:<port>` (or `https://` behind a TLS proxy), the port
 * the proxy (or the service itself) answers on; the provider knows its callback and sign-out URLs.
 *
 * ```ts
 * const fleet = await startSignInService({ port, mode: 'redis', redisUrl: redis.url });
 * t.after(() => fleet.close());
 * ```
 */
import { checkServiceConfig } from '../../src/service/config.ts';
import { createLogger } from '../../src/service/log.ts';
import { type RunningService, startService } from '../../src/service/server.ts';
import { type EchoUpstream, startEchoUpstream } from './echo-upstream.ts';
import { startCognitoProvider, type TestCognitoProvider } from './oidc-provider.ts';
import { SECRET } from './session-app.ts';

export interface SignInServiceOptions {
  /** The port of the app's public origin, `http://localhost:<port>`. */
  port: number;
  /**
   * The proxy answers over TLS: the origin is `https://localhost:<port>`, without the development
   * switch, so the cookie is `__Host-session` with `Secure`, as shipped.
   */
  https?: boolean;
  /** Sessions in Redis (`store`) or in the sealed cookie. */
  mode: 'redis' | 'cookie';
  /** The Redis of the revocation list (and of the session store in `redis` mode). */
  redisUrl: string;
  tokenTtlSeconds?: number;
  /** Listen on this port instead of a free one (when the service is the app's origin itself). */
  servicePort?: number;
}

export interface SignInService {
  readonly op: TestCognitoProvider;
  readonly service: RunningService;
  readonly servicePort: number;
  readonly upstream: EchoUpstream;
  readonly appOrigin: string;
  /** The service's log lines (JSON), for what the client is not told. */
  readonly logLines: readonly string[];
  close(): Promise<void>;
}

/** `/admin/**` asks for the `admins` group; every other path a signed-in user. */
export async function startSignInService(options: SignInServiceOptions): Promise<SignInService> {
  const appOrigin = `${options.https === true ? 'https' : 'http'}://localhost:${options.port}`;
  const logLines: string[] = [];
  const op = await startCognitoProvider({
    callbackUrls: [`${appOrigin}/oauth2/callback`],
    signOutUrls: [`${appOrigin}/`],
    ...(options.tokenTtlSeconds === undefined ? {} : { tokenTtlSeconds: options.tokenTtlSeconds }),
  });
  let service: RunningService | undefined;
  let upstream: EchoUpstream | undefined;
  try {
    const settings = checkServiceConfig(
      {
        listen: { host: '127.0.0.1', port: options.servicePort ?? 0 },
        workers: 1,
        metrics: false,
        pools: [
          { userPoolId: op.userPoolId, issuer: op.issuer, clientId: [op.clientId], tokenUse: 'access' },
        ],
        routes: [
          { path: '/admin/**', require: { groups: ['admins'] } },
          { path: '/**', require: 'authenticated' },
        ],
        revocation: { redis: { url: options.redisUrl }, onUnavailable: 'reject' },
        session: {
          domain: op.origin,
          clientId: op.clientId,
          clientSecret: op.clientSecret,
          appOrigin,
          secrets: [SECRET],
          insecureLocalhost: options.https !== true,
          refreshMarginSeconds: 60,
          ...(options.mode === 'redis' ? { store: { redis: { url: options.redisUrl } } } : {}),
        },
      },
      { baseDir: process.cwd(), env: {} },
    );
    service = await startService(settings, {
      logger: createLogger({ level: 'debug', decisions: 'info', write: (line) => logLines.push(line) }),
    });
    upstream = await startEchoUpstream();
  } catch (error) {
    await service?.close();
    await op.close();
    throw error;
  }
  const started = service;
  const echo = upstream;
  return {
    op,
    service: started,
    servicePort: Number(new URL(started.url).port),
    upstream: echo,
    appOrigin,
    logLines,
    close: async () => {
      await echo.close();
      await started.close();
      await op.close();
    },
  };
}
