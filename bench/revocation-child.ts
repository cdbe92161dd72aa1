// A verifier process of the fleet tests and the benchmark: a CognitoVerifier whose isRevoked hook
// is a Redis-backed RevocationList. The parent sends { id, tokens } over IPC; the child answers
// { id, results: [code | 'ok'] }. Settings arrive as JSON in argv[2].
import { CognitoJwtError, CognitoVerifier, type Jwks } from '../../src/index.ts';
import { RevocationList, type UnavailableBehaviour } from '../../src/revocation/index.ts';

interface ChildSettings {
  redisUrl: string;
  userPoolId: string;
  clientId: string;
  jwks: Jwks;
  onUnavailable: UnavailableBehaviour;
  maxStalenessMs?: number;
  heartbeatMs?: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as ChildSettings;
const list = new RevocationList({
  redis: { url: settings.redisUrl, commandTimeoutMs: 500, connectTimeoutMs: 500 },
  onUnavailable: settings.onUnavailable,
  ...(settings.maxStalenessMs === undefined ? {} : { maxStalenessMs: settings.maxStalenessMs }),
  ...(settings.heartbeatMs === undefined ? {} : { heartbeatMs: settings.heartbeatMs }),
});
const verifier = new CognitoVerifier(
  { userPoolId: settings.userPoolId, clientId: settings.clientId, tokenUse: 'access', jwks: settings.jwks },
  { isRevoked: list.isRevoked },
);

process.on('message', (message: { id: number; tokens: string[] } | 'close') => {
  if (message === 'close') {
    void list.close().then(() => process.exit(0));
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
