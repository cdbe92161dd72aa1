import { AlbVerifier, type AlbVerifierConfig, type AlbVerifierOptions } from '../../src/alb/index.ts';
import {
  type AlbKeyServer,
  type AlbTestKey,
  DEFAULT_TEST_ALB_ARN,
  DEFAULT_TEST_ALB_CLIENT_ID,
  DEFAULT_TEST_ALB_ISSUER,
  generateAlbKeyPair,
  startAlbKeyServer,
} from '../../src/testing/index.ts';

/** A second load balancer of the same account and region, and one of another account and region. */
export const OTHER_ALB_SAME_REGION =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other-alb/0123456789abcdef';
export const OTHER_ALB_OTHER_ACCOUNT =
  'arn:aws:elasticloadbalancing:us-east-1:210987654321:loadbalancer/app/test-alb/50dc6c495c0c9188';
export const EU_ALB =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/eu-alb/fedcba9876543210';

export interface AlbFixture {
  key: AlbTestKey;
  server: AlbKeyServer;
  verifier: AlbVerifier;
  close(): Promise<void>;
}

/** A key endpoint on loopback serving one P-256 key, and a verifier for the default test ALB. */
export async function startAlbFixture(
  config: Partial<AlbVerifierConfig> = {},
  options: AlbVerifierOptions = {},
): Promise<AlbFixture> {
  const key = generateAlbKeyPair();
  const server = await startAlbKeyServer({ keys: [key] });
  const verifier = new AlbVerifier(
    {
      albArn: DEFAULT_TEST_ALB_ARN,
      issuer: DEFAULT_TEST_ALB_ISSUER,
      clientId: DEFAULT_TEST_ALB_CLIENT_ID,
      keysUrl: server.keysUrl,
      ...config,
    },
    options,
  );
  return { key, server, verifier, close: () => server.close() };
}
