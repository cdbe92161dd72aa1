// A verifier process of the fleet tests and the benchmark: a CognitoVerifier whose isRevoked hook
// is a Redis-backed RevocationList. The parent sends { id, tokens } over IPC; the child answers
// { id, results: [code | 'ok'] }. Settings arrive as JSON in argv[2].
import { CognitoJwtError, CognitoVerifier, type Jwks } from '../src/index.ts';
import { RevocationList, type UnavailableBehaviour } from '../src/revocation/index.ts';

interface ChildSettings {
  redisUrl: string;
  /** A Redis Cluster's seed URLs instead of `redisUrl`. */
  redisCluster?: string[];
  userPoolId: string;
  clientId: string;
  jwks: Jwks;
  onUnavailable: UnavailableBehaviour;
  maxStalenessMs?: number;
  heartbeatMs?: number;
  readyTimeoutMs?: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as ChildSettings;
const list = new RevocationList({
  redis: {
    ...(settings.redisCluster
      ? { cluster: { rootNodes: settings.redisCluster } }
      : { url: settings.redisUrl }),
    commandTimeoutMs: 500,
    connectTimeoutMs: 500,
  },
  onUnavailable: settings.onUnavailable,
  ...(settings.maxStalenessMs === undefined ? {} : { maxStalenessMs: settings.maxStalenessMs }),
  ...(settings.heartbeatMs === undefined ? {} : { heartbeatMs: settings.heartbeatMs }),
  // A child on a busy machine may take seconds to load: wait for the first read rather than fail.
  readyTimeoutMs: settings.readyTimeoutMs ?? 120_000,
});
const verifier = new CognitoVerifier(
  { userPoolId: settings.userPoolId, clientId: settings.clientId, tokenUse: 'access', jwks: settings.jwks },
  { isRevoked: list.isRevoked },
);

const refused = (token: string) => {
  try {
    verifier.verifySync(token);
    return false;
  } catch (error) {
    return error instanceof CognitoJwtError && error.code === 'ERR_TOKEN_REVOKED';
  }
};

// The benchmark's probe: verify `token` in a loop that yields to I/O between tries, and report the
// moment (comparable across processes: the wall clock at process start plus a monotonic offset)
// it is first refused.
function watch(id: number, token: string): void {
  if (refused(token)) {
    process.send?.({ id, refusedAt: performance.timeOrigin + performance.now() });
    return;
  }
  setImmediate(() => watch(id, token));
}

type Message = { id: number; tokens: string[] } | { id: number; watch: string } | 'close';

process.on('message', (message: Message) => {
  if (message === 'close') {
    void list.close().then(() => process.exit(0));
    return;
  }
  if ('watch' in message) {
    verifier.verifySync(message.watch); // accepted (and cached) before the revocation
    process.send?.({ id: message.id, watching: true });
    watch(message.id, message.watch);
    return;
  }
  const results = message.tokens.map((token) => {
    try {
      verifier.verifySync(token);
      return 'ok';
    } catch (error) {
      return error instanceof CognitoJwtError ? error.code : String(error);
    }
  });
  process.send?.({ id: message.id, results, size: list.size });
});

await list.ready;
process.send?.({ ready: true });
