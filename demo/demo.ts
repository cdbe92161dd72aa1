/**
 * `npm run demo`: the whole path of a token on this machine, no AWS account needed.
 * A JWKS server on loopback plays the user pool; the verifier fetches its keys over HTTP.
 */
import { styleText } from 'node:util';
import { CognitoJwtError, CognitoVerifier, JwksCache } from '../src/index.ts';
import {
  generateKeyPair,
  mintAccessToken,
  mintIdToken,
  mintRefreshToken,
  startJwksServer,
} from '../src/testing/index.ts';

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (format: Parameters<typeof styleText>[0], text: string) =>
  color ? styleText(format, text) : text;
const ok = (text: string) => console.log(`${paint('green', '  ✔ accepted')}  ${text}`);
const refused = (text: string, error: unknown) => {
  if (!(error instanceof CognitoJwtError)) throw error;
  console.log(`${paint('red', '  ✘ rejected')}  ${text}`);
  console.log(`      ${paint('bold', error.code)} (HTTP ${error.status}): ${error.message}`);
};
const heading = (text: string) => console.log(`\n${paint('bold', text)}`);

const userPoolId = 'local_DemoPool';
const clientId = 'demo-app-client';
const key = generateKeyPair();
const server = await startJwksServer({ keys: [key] });
const issuer = server.issuer(userPoolId);

try {
  heading('A user pool on loopback');
  console.log(`  issuer  ${issuer}`);
  console.log(`  JWKS    ${server.jwksUri(userPoolId)}  (1 RSA-2048 key, kid ${key.kid.slice(0, 12)}…)`);

  // Two verifiers share one key cache, so the pool's JWKS is fetched once for both.
  const jwksCache = new JwksCache();
  const idVerifier = new CognitoVerifier({ userPoolId, issuer, clientId, tokenUse: 'id' }, { jwksCache });
  const accessVerifier = new CognitoVerifier(
    { userPoolId, issuer, clientId, tokenUse: 'access', scopes: 'orders/read' },
    { jwksCache },
  );

  const user = { key, issuer, clientId, username: 'alice', groups: ['admins', 'staff'] };
  const idToken = mintIdToken(user);
  const accessToken = mintAccessToken({ ...user, scope: 'openid orders/read' });

  heading('Verifying an ID token (keys fetched over HTTP on first use)');
  const idClaims = await idVerifier.verify(idToken);
  ok(`ID token of ${idClaims['cognito:username']} (sub ${idClaims.sub})`);
  console.log(
    `      aud ${idClaims.aud}, groups ${idClaims['cognito:groups']?.join(', ')}, expires ${new Date(idClaims.exp * 1000).toISOString()}`,
  );

  heading('Verifying an access token that must carry the scope orders/read');
  const accessClaims = await accessVerifier.verify(accessToken);
  ok(`access token of ${accessClaims.username} for client ${accessClaims.client_id}`);
  console.log(`      scope "${accessClaims.scope}", token_use ${accessClaims.token_use}`);
  console.log(`      the JWKS server answered ${server.requestCount} request(s) for both tokens`);

  heading('Tokens that must be refused');
  const [head, payload, signature] = idToken.split('.') as [string, string, string];
  const forged = JSON.parse(Buffer.from(payload, 'base64url').toString());
  forged['cognito:groups'] = ['admins', 'superusers'];
  const tampered = `${head}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
  const cases: [string, () => Promise<unknown>][] = [
    ['an ID token whose groups were edited', () => idVerifier.verify(tampered)],
    [
      'an ID token that expired an hour ago',
      () => idVerifier.verify(mintIdToken({ ...user, expiresIn: -3600 })),
    ],
    ['an access token where an ID token is expected', () => idVerifier.verify(accessToken)],
    ['an access token without the orders/read scope', () => accessVerifier.verify(mintAccessToken(user))],
    [
      'a token from another user pool',
      () => idVerifier.verify(mintIdToken({ ...user, issuer: server.issuer('local_Other') })),
    ],
    ['a refresh token', () => idVerifier.verify(mintRefreshToken())],
    [
      'a token with alg "none"',
      () => idVerifier.verify(`${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}.${payload}.`),
    ],
  ];
  for (const [label, attempt] of cases) {
    try {
      await attempt();
      console.log(paint('red', `  !! ${label} was accepted — this is a bug`));
      process.exitCode = 1;
    } catch (error) {
      refused(label, error);
    }
  }
  console.log(`\nDone: ${server.requestCount} JWKS request(s) in all. Nothing left this machine.`);
} finally {
  await server.close();
}
