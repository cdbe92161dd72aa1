/**
 * What the Redis Cluster failover tests share: one pool and key, tokens minted for it, the list's
 * entries key (its `{…}` hash tag puts the whole list in one slot), and the settings of a fleet of
 * verifier processes (bench/revocation-fleet.ts) on a cluster.
 */
import { decodeUnverified } from '../../src/index.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';

export const POOL = 'eu-west-1_ClusterPool';
export const CLIENT = 'client-1';
export const REVOKED = 'ERR_TOKEN_REVOKED';
export const ENTRIES = '{cognito-jwt:revocation}:entries';
export const HEARTBEAT_MS = 100;

const key = generateKeyPair();
const issuer = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;

export const mint = (): string => mintAccessToken({ key, issuer, clientId: CLIENT });
export const originJti = (token: string): string => decodeUnverified(token).payload.origin_jti as string;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The settings of a verifier fleet on the cluster whose nodes are `urls`. */
export function clusterFleetSettings(urls: readonly string[]) {
  return {
    redisUrl: urls[0],
    redisCluster: urls,
    userPoolId: POOL,
    clientId: CLIENT,
    jwks: buildJwks(key),
    onUnavailable: 'reject',
    heartbeatMs: HEARTBEAT_MS,
    maxStalenessMs: 1_000,
  };
}
