// One cold start in a fresh process: import the library, create a verifier, verify one token
// whose JWKS is fetched over loopback HTTP. Prints the timings as JSON on stdout.
// argv[2]: { variant, indexUrl, jwksUri, token, userPoolId, clientId }
const started = performance.now();
const { variant, indexUrl, jwksUri, token, userPoolId, clientId } = JSON.parse(process.argv[2]);

let claims;
let imported;
if (variant === 'aws-jwt-verify') {
  const { CognitoJwtVerifier } = await import('aws-jwt-verify');
  imported = performance.now();
  const { SimpleJwksCache } = await import('aws-jwt-verify/jwk');
  const { SimpleFetcher } = await import('aws-jwt-verify/https');
  const { Agent } = await import('node:http');
  // Its fetcher speaks https only: an http agent, and every JWKS URL redirected to loopback.
  const fetcher = new SimpleFetcher({ defaultRequestOptions: { agent: new Agent() } });
  const jwksCache = new SimpleJwksCache({
    fetcher: { fetch: (_uri, options, data) => fetcher.fetch(jwksUri, options, data) },
  });
  const verifier = CognitoJwtVerifier.create({ userPoolId, clientId, tokenUse: 'access' }, { jwksCache });
  claims = await verifier.verify(token);
} else {
  const { CognitoVerifier } = await import(indexUrl);
  imported = performance.now();
  const options = {};
  if (variant === 'cognito-jwt, fetch: global fetch') options.fetch = globalThis.fetch;
  const verifier = new CognitoVerifier({ userPoolId, clientId, tokenUse: 'access', jwksUri }, options);
  claims = await verifier.verify(token);
}
const verified = performance.now();
// CPU time is the figure a busy machine disturbs least: waiting for a core is not counted.
const cpu = process.cpuUsage();
if (claims.client_id !== clientId) throw new Error('the token did not verify');
process.stdout.write(
  JSON.stringify({
    importMs: imported - started,
    importToVerifiedMs: verified - started,
    processStartToVerifiedMs: verified,
    cpuToVerifiedMs: (cpu.user + cpu.system) / 1000,
  }),
  () => process.exit(0),
);
