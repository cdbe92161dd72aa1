/**
 * Callers that signed their request with SigV4, using credentials an identity pool gave a user of
 * a user pool. API Gateway checked the signature (IAM authorization) and writes who the identity
 * is into the event; no token reaches the integration. These are facts API Gateway vouches for,
 * not a token verified here: they are only as good as the API's IAM authorization and its
 * resource policy.
 */
import { CognitoJwtError, ConfigError, describeValue } from '../errors.ts';
import { checkOptions, optionKeys, stringList } from '../options.ts';
import { isUserPoolId } from '../pool/id.ts';

/** Who signed the request, as API Gateway describes an identity-pool identity of a user-pool user. */
export interface IamCaller {
  /** The identity pool's id for this identity (`us-east-1:…`). */
  identityId: string;
  identityPoolId: string;
  /** The user pool the user signed in to (`us-east-1_AbC123`). */
  userPoolId: string;
  /** The user's `sub` in that user pool. */
  sub: string;
  /** REST API (`requestContext.identity`) or HTTP API (`requestContext.authorizer.iam.cognitoIdentity`). */
  source: 'rest' | 'http-api';
}

/** Which identity pools and user pools may call; anything else is refused. */
export interface IamCallerOptions {
  /** The identity pool id (or ids) whose identities are accepted. */
  identityPoolId: string | readonly string[];
  /** The user pool id (or ids) whose users are accepted. */
  userPoolId: string | readonly string[];
}

/** The part of an IAM-authorized integration event this reader looks at (REST v1 and HTTP API v2 both fit). */
export interface IamAuthorizedEvent {
  requestContext?: {
    identity?: unknown;
    authorizer?: unknown;
  } | null;
}

const IAM_CALLER_OPTIONS = optionKeys<IamCallerOptions>('getIamCaller() options', {
  identityPoolId: true,
  userPoolId: true,
});

// `{region}:{uuid}`: identity pool ids and identity ids.
const REGIONAL_ID =
  /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// `cognito-idp.{region}.amazonaws.com[.cn]/{userPoolId}`
const PROVIDER = /^cognito-idp\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?\/([^/:,\s]+)$/;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function invalid(claim: string, detail: string): CognitoJwtError {
  return new CognitoJwtError('ERR_CLAIM_INVALID', `${claim}: ${detail}`, { claim });
}

/** A user-pool provider name; its pool id's region must be the host's. */
function userPoolOf(provider: string, claim: string): string {
  const match = PROVIDER.exec(provider);
  if (!match) {
    throw new CognitoJwtError(
      'ERR_ISSUER_MISMATCH',
      `${claim}: the identity signed in through ${describeValue(provider)}, not a Cognito user pool`,
      { claim },
    );
  }
  const [, region, poolId = ''] = match;
  if (!isUserPoolId(poolId) || !poolId.startsWith(`${region}_`)) {
    throw invalid(claim, `${describeValue(poolId)} is not a user pool id of ${region}`);
  }
  return poolId;
}

/** `{provider}:CognitoSignIn:{sub}` for the provider already read; the sub. */
function subOf(signIn: string, provider: string, claim: string): string {
  const prefix = `${provider}:CognitoSignIn:`;
  if (!signIn.startsWith(prefix)) {
    throw invalid(claim, `expected "${prefix}<sub>" after the provider, found ${describeValue(signIn)}`);
  }
  const sub = signIn.slice(prefix.length);
  if (!SUB.test(sub)) throw invalid(claim, `the sub ${describeValue(sub)} is not a user pool sub (a UUID)`);
  return sub;
}

function regionalId(value: unknown, claim: string): string {
  if (typeof value !== 'string' || !REGIONAL_ID.test(value)) {
    throw invalid(claim, `expected "<region>:<uuid>", found ${describeValue(value)}`);
  }
  return value;
}

function fromRest(identity: Record<string, unknown>) {
  const type = identity.cognitoAuthenticationType;
  const provider = identity.cognitoAuthenticationProvider;
  if (type === 'unauthenticated') {
    throw new CognitoJwtError(
      'ERR_IDENTITY_UNAUTHENTICATED',
      'the request was signed by a guest (unauthenticated) identity of the identity pool',
    );
  }
  if (type !== 'authenticated') {
    throw invalid('cognitoAuthenticationType', `expected "authenticated", found ${describeValue(type)}`);
  }
  if (typeof provider !== 'string') {
    throw invalid('cognitoAuthenticationProvider', `expected a string, found ${describeValue(provider)}`);
  }
  // `{provider},{provider}:CognitoSignIn:{sub}`; a provider name holds no comma.
  const parts = provider.split(',');
  if (parts.length !== 2) {
    // One part is another provider (a social or developer identity), more are not API Gateway's.
    if (parts.length === 1) userPoolOf(parts[0]!, 'cognitoAuthenticationProvider');
    throw invalid(
      'cognitoAuthenticationProvider',
      `expected "<provider>,<provider>:CognitoSignIn:<sub>", found ${parts.length} comma-separated parts`,
    );
  }
  const userPoolId = userPoolOf(parts[0]!, 'cognitoAuthenticationProvider');
  return {
    userPoolId,
    sub: subOf(parts[1]!, parts[0]!, 'cognitoAuthenticationProvider'),
    identityId: regionalId(identity.cognitoIdentityId, 'cognitoIdentityId'),
    identityPoolId: regionalId(identity.cognitoIdentityPoolId, 'cognitoIdentityPoolId'),
    source: 'rest' as const,
  };
}

function fromHttpApi(cognito: Record<string, unknown>) {
  const { amr } = cognito;
  if (!Array.isArray(amr) || !amr.every((item) => typeof item === 'string')) {
    throw invalid('amr', `expected an array of strings, found ${describeValue(amr)}`);
  }
  if (amr[0] === 'unauthenticated') {
    throw new CognitoJwtError(
      'ERR_IDENTITY_UNAUTHENTICATED',
      'the request was signed by a guest (unauthenticated) identity of the identity pool',
      { claim: 'amr' },
    );
  }
  if (amr[0] !== 'authenticated') {
    throw invalid('amr', `expected "authenticated" first, found ${describeValue(amr[0])}`);
  }
  if (amr.length === 2) userPoolOf(amr[1] as string, 'amr'); // another provider: say so
  if (amr.length !== 3) {
    throw invalid(
      'amr',
      `expected ["authenticated", "<provider>", "<provider>:CognitoSignIn:<sub>"], found ${amr.length} entries`,
    );
  }
  const [, provider, signIn] = amr as [string, string, string];
  return {
    userPoolId: userPoolOf(provider, 'amr'),
    sub: subOf(signIn, provider, 'amr'),
    identityId: regionalId(cognito.identityId, 'identityId'),
    identityPoolId: regionalId(cognito.identityPoolId, 'identityPoolId'),
    source: 'http-api' as const,
  };
}

/**
 * The user-pool user behind a request that API Gateway authorized with IAM (SigV4), from a REST
 * event (`requestContext.identity.cognitoAuthenticationProvider`) or an HTTP API event
 * (`requestContext.authorizer.iam.cognitoIdentity.amr`), parsed strictly. The identity pool and
 * the user pool must be among those configured: a resource policy that admits other accounts
 * would otherwise let their pools' users in.
 *
 * Throws `ERR_TOKEN_MISSING` when the request was not signed by an identity-pool identity,
 * `ERR_IDENTITY_UNAUTHENTICATED` for a guest identity, `ERR_ISSUER_MISMATCH` for another pool or a
 * provider that is not a user pool (a social or developer identity), `ERR_CLAIM_INVALID` for a
 * value not shaped as API Gateway writes it.
 *
 * This is what API Gateway vouches for, not a verified token: nothing is verified here.
 *
 * ```ts
 * import { getIamCaller, type APIGatewayProxyEvent } from 'cognito-jwt/lambda';
 *
 * export async function handler(event: APIGatewayProxyEvent) {
 *   const caller = getIamCaller(event, { identityPoolId: 'eu-west-1:0f1e2d3c-…', userPoolId: 'eu-west-1_AbC123' });
 *   return { statusCode: 200, body: JSON.stringify({ sub: caller.sub }) };
 * }
 * ```
 */
export function getIamCaller(event: IamAuthorizedEvent, options: IamCallerOptions): IamCaller {
  const where = 'getIamCaller()';
  if (options === undefined) throw new ConfigError(`${where} needs { identityPoolId, userPoolId }`);
  checkOptions(IAM_CALLER_OPTIONS, options);
  const identityPools = stringList(`${where}: identityPoolId`, options.identityPoolId);
  const userPools = stringList(`${where}: userPoolId`, options.userPoolId);
  for (const id of identityPools) {
    if (!REGIONAL_ID.test(id))
      throw new ConfigError(`${where}: ${describeValue(id)} is not an identity pool id ("<region>:<uuid>")`);
  }
  for (const id of userPools) {
    if (!isUserPoolId(id)) throw new ConfigError(`${where}: ${describeValue(id)} is not a user pool id`);
  }

  const context = record(event?.requestContext);
  const cognito = record(record(record(context?.authorizer)?.iam)?.cognitoIdentity);
  const identity = record(context?.identity);
  let caller: IamCaller;
  if (cognito) caller = fromHttpApi(cognito);
  else if (
    identity &&
    (identity.cognitoAuthenticationType ?? identity.cognitoAuthenticationProvider ?? null) !== null
  ) {
    caller = fromRest(identity);
  } else {
    throw new CognitoJwtError(
      'ERR_TOKEN_MISSING',
      'the request was not signed by an identity-pool identity: expected requestContext.identity.cognitoAuthenticationProvider (REST API) ' +
        'or requestContext.authorizer.iam.cognitoIdentity (HTTP API) from IAM authorization',
    );
  }
  if (!identityPools.includes(caller.identityPoolId)) {
    throw new CognitoJwtError(
      'ERR_ISSUER_MISMATCH',
      `the identity pool ${caller.identityPoolId} is not accepted (expected ${identityPools.join(' or ')})`,
      { claim: 'identityPoolId' },
    );
  }
  if (!userPools.includes(caller.userPoolId)) {
    throw new CognitoJwtError(
      'ERR_ISSUER_MISMATCH',
      `the user pool ${caller.userPoolId} is not accepted (expected ${userPools.join(' or ')})`,
      { claim: 'userPoolId' },
    );
  }
  return caller;
}
