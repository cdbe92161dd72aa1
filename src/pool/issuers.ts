import { ConfigError, describeValue } from '../errors.ts';
import { poolRegion, regionMistake } from './id.ts';

/**
 * The issuers a Cognito pool signs with: the original form and the multi-Region ("updated") form.
 *
 * ```ts
 * poolIssuers('eu-west-1_AbC123'); // ['https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123', 'https://issuer-cognito-idp...']
 * ```
 */
export function poolIssuers(userPoolId: string): string[] {
  const region = poolRegion(userPoolId);
  if (!region) {
    throw new ConfigError(
      regionMistake(userPoolId) ??
        `userPoolId must look like "us-east-1_AbC123" (region, underscore, id), got ${describeValue(userPoolId)}; ` +
          'for an emulator pass its issuer as well',
    );
  }
  const undocumented = undocumentedDomain(userPoolId);
  if (undocumented !== undefined) {
    throw new ConfigError(
      `${undocumented}: deriving the issuer and JWKS URL would be a guess (a wrong one sends key requests elsewhere). ` +
        "Set issuer and jwksUri as your pool's /.well-known/openid-configuration lists them",
    );
  }
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return [
    `https://cognito-idp.${region}.${domain}/${userPoolId}`,
    `https://issuer-cognito-idp.${region}.${domain}/${userPoolId}`,
  ];
}

/**
 * The partition of a region whose Cognito domain AWS does not document, described in words, or
 * `undefined` for the commercial, China and GovCloud partitions (whose domains are documented).
 * The European Sovereign Cloud (`eusc-`) and the ISO partitions (`us-iso-`, `us-isob-`, `us-isof-`,
 * `eu-isoe-`) use domains of their own.
 *
 * ```ts
 * undocumentedPartition('eusc-de-east-1'); // 'the AWS European Sovereign Cloud'
 * undocumentedPartition('eu-west-1'); // undefined
 * ```
 */
export function undocumentedPartition(region: string): string | undefined {
  if (region.startsWith('eusc-')) return 'the AWS European Sovereign Cloud';
  const iso = /^[a-z]{2}-(iso[a-z]?)-/.exec(region)?.[1];
  return iso === undefined ? undefined : `an isolated (${iso.toUpperCase()}) partition`;
}

/**
 * For a pool in a partition whose Cognito domain AWS does not document, the sentence that says so
 * (the start of the error message of every check that needs that domain); `undefined` otherwise.
 *
 * ```ts
 * undocumentedDomain('eusc-de-east-1_AbC123'); // 'userPoolId "eusc-de-east-1_AbC123" is in eusc-de-east-1, the AWS European Sovereign Cloud, where ...'
 * ```
 */
export function undocumentedDomain(userPoolId: string): string | undefined {
  const region = poolRegion(userPoolId);
  const partition = region === undefined ? undefined : undocumentedPartition(region);
  return partition === undefined
    ? undefined
    : `userPoolId ${describeValue(userPoolId)} is in ${region}, ${partition}, where AWS does not document Cognito's domain`;
}

/** Where an issuer publishes its keys, unless a config names another place. */
export function issuerJwksUri(issuer: string): string {
  return `${issuer}/.well-known/jwks.json`;
}

// The multi-Region form of a pool's issuer: the original form's host with `issuer-` in front.
const MULTI_REGION_ISSUER = /^https:\/\/issuer-(cognito-idp\.[^/]+\/.+)$/;

/**
 * The issuers to send OAuth clients to, each once: a pool's multi-Region form is left out when its
 * original form is in the list too, since the original form is the one the pool's OpenID discovery
 * document (`{issuer}/.well-known/openid-configuration`) names. Other issuers pass unchanged.
 *
 * ```ts
 * discoveryIssuers(poolIssuers('eu-west-1_AbC123')); // ['https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123']
 * ```
 */
export function discoveryIssuers(issuers: readonly string[]): string[] {
  const all = new Set(issuers);
  return [...all].filter((issuer) => {
    const original = MULTI_REGION_ISSUER.exec(issuer)?.[1];
    return original === undefined || !all.has(`https://${original}`);
  });
}
