import { isAlbKid } from '../alb/key-cache.ts';
import { parseAlbToken } from '../alb/parse.ts';
import { CognitoJwtError, describeValue } from '../errors.ts';
import { relativeWords, spanWords } from './time.ts';

/** What a load balancer's `x-amzn-oidc-data` header says, for `inspect` (nothing verified). */
export interface AlbTokenFacts {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  /** The header's `signer`, split when it is an ALB ARN. */
  readonly loadBalancer: { readonly arn: string; readonly region?: string; readonly account?: string };
  readonly issuer: string | undefined;
  readonly client: string | undefined;
  /** The header's `exp` (what the load balancer vouches for). */
  readonly exp: { epoch: number; iso: string; relative: string } | undefined;
  readonly warnings: readonly string[];
}

export const ALB_TITLE = 'Application Load Balancer token (x-amzn-oidc-data)';
export const ALB_EXPLANATION =
  'Signed by the load balancer (ES256, a PEM key per kid from the region of its ARN), not by Cognito: ' +
  'the payload is the userinfo of the signed-in user, without groups or scopes. Verify it with ' +
  "AlbVerifier from cognito-jwt/alb and your load balancer's ARN; the signer must be yours.";

const ARN = /^arn:aws[\w-]*:elasticloadbalancing:([a-z0-9-]+):(\d{12}):loadbalancer\/app\//;

/**
 * Recognise an `x-amzn-oidc-data` token: three segments in the padded canonical form the load
 * balancer writes, and a `signer` in the header. `undefined` for anything else (the caller then
 * reads it as a Cognito token).
 *
 * ```ts
 * const facts = describeAlbToken(token, Date.now() / 1000);
 * if (facts) console.log(facts.loadBalancer.arn, facts.exp?.relative);
 * ```
 */
export function describeAlbToken(token: string, nowSeconds: number): AlbTokenFacts | undefined {
  let parsed: ReturnType<typeof parseAlbToken>;
  try {
    parsed = parseAlbToken(token);
  } catch (error) {
    if (error instanceof CognitoJwtError) return undefined;
    throw error;
  }
  const { header, payload } = parsed;
  if (header.signer === undefined) return undefined;
  const warnings: string[] = [];
  const signer = String(header.signer);
  const arn = ARN.exec(signer);
  if (typeof header.signer !== 'string' || !arn) {
    warnings.push(`signer is ${describeValue(header.signer)}: a load balancer writes its ARN there`);
  }
  if (header.alg !== 'ES256') {
    warnings.push(
      `alg is ${describeValue(header.alg)}: load balancers sign with ES256 only, so verifiers must reject it`,
    );
  }
  if (!isAlbKid(header.kid))
    warnings.push(`kid is ${describeValue(header.kid)}: a load balancer's kid is a UUID`);
  let exp: AlbTokenFacts['exp'];
  if (typeof header.exp === 'number' && Number.isFinite(header.exp) && Math.abs(header.exp) <= 1e11) {
    exp = {
      epoch: header.exp,
      iso: new Date(header.exp * 1000).toISOString(),
      relative: relativeWords('exp', header.exp, nowSeconds),
    };
    if (header.exp <= nowSeconds)
      warnings.push(`expired ${spanWords(nowSeconds - header.exp)} ago (${exp.iso})`);
  } else {
    warnings.push(`the header's exp is ${describeValue(header.exp)}: it is required, as a number of seconds`);
  }
  for (const claim of ['exp', 'iss'] as const) {
    if (payload[claim] !== undefined && payload[claim] !== header[claim]) {
      warnings.push(
        `the payload's ${claim} ${describeValue(payload[claim])} disagrees with the header's ${describeValue(header[claim])}: refused`,
      );
    }
  }
  if (typeof header.client !== 'string')
    warnings.push(`client is ${describeValue(header.client)}: expected the app client id`);
  return {
    header,
    claims: payload,
    loadBalancer: arn ? { arn: signer, region: arn[1]!, account: arn[2]! } : { arn: signer },
    issuer: typeof header.iss === 'string' ? header.iss : undefined,
    client: typeof header.client === 'string' ? header.client : undefined,
    exp,
    warnings,
  };
}
