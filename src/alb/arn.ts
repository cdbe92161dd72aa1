import { ConfigError, describeValue } from '../errors.ts';
import { checkUrl } from '../pool/url.ts';

/**
 * An Application Load Balancer's ARN, checked and split.
 *
 * ```ts
 * const arn = parseAlbArn('arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188');
 * console.log(arn.region); // eu-west-1
 * ```
 */
export interface AlbArn {
  readonly arn: string;
  readonly partition: 'aws' | 'aws-us-gov' | 'aws-cn';
  readonly region: string;
  readonly account: string;
}

// Only application load balancers (`loadbalancer/app/...`) authenticate users.
const ALB_ARN =
  /^arn:(aws|aws-us-gov|aws-cn):elasticloadbalancing:([a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}):(\d{12}):loadbalancer\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{1,32}$/;

/** Check an ALB ARN, including that its region belongs to its partition. Throws {@link ConfigError}. */
export function parseAlbArn(value: unknown, name = 'albArn'): AlbArn {
  const match = typeof value === 'string' ? ALB_ARN.exec(value) : null;
  if (!match) {
    throw new ConfigError(
      `${name} must be an application load balancer ARN like ` +
        `"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188", ` +
        `got ${describeValue(value)}`,
    );
  }
  const [, partition, region, account] = match as unknown as [string, AlbArn['partition'], string, string];
  const expected = region.startsWith('us-gov-') ? 'aws-us-gov' : region.startsWith('cn-') ? 'aws-cn' : 'aws';
  if (partition !== expected) {
    throw new ConfigError(`${name}: the region ${region} is not in the ${partition} partition`);
  }
  return { arn: value as string, partition, region, account };
}

/** The placeholder a key-URL override may use for the region of the ARN that signed. */
export const REGION_PLACEHOLDER = '{region}';

/**
 * Where the load balancer keys of an ARN's region are published; a key is at `{base}/{kid}`.
 * Commercial regions: `https://public-keys.auth.elb.{region}.amazonaws.com`. GovCloud:
 * `https://s3-{region}.amazonaws.com/aws-elb-public-keys-prod-{region}`. The China partition has
 * no endpoint this library knows for sure, so it needs `keysUrl`.
 */
export function defaultKeysBase(arn: AlbArn): string {
  if (arn.partition === 'aws') return `https://public-keys.auth.elb.${arn.region}.amazonaws.com`;
  if (arn.partition === 'aws-us-gov') {
    return `https://s3-${arn.region}.amazonaws.com/aws-elb-public-keys-prod-${arn.region}`;
  }
  throw new ConfigError(
    `albArn ${arn.arn} is in the China partition, whose key endpoint is not built in: ` +
      `set keysUrl (for example "https://public-keys.auth.elb.{region}.amazonaws.com.cn")`,
  );
}

/**
 * Check a key-URL override: an `https:` URL (`http:` on loopback only, for tests and emulators),
 * optionally with `{region}`, to which `/{kid}` is appended.
 */
export function checkKeysUrl(value: unknown): string {
  if (typeof value === 'string' && value.includes(REGION_PLACEHOLDER)) {
    checkUrl('keysUrl', value.replaceAll(REGION_PLACEHOLDER, 'us-east-1'));
  } else {
    checkUrl('keysUrl', value);
  }
  const url = value as string;
  if (url.includes('?') || url.includes('#')) throw new ConfigError('keysUrl must have no query or fragment');
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** The base for one configured ARN: the override with its region filled in, or the default. */
export function keysBaseFor(arn: AlbArn, keysUrl: string | undefined): string {
  return keysUrl === undefined ? defaultKeysBase(arn) : keysUrl.replaceAll(REGION_PLACEHOLDER, arn.region);
}
