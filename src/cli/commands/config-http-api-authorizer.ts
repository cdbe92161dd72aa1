import { describeValue } from '../../errors.ts';
import { isUserPoolId } from '../../pool/id.ts';
import { poolIssuers } from '../../pool/issuers.ts';
import { checkUrl } from '../../pool/url.ts';
import { parseCommand, required, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-code.ts';

const NAME = 'config http-api-authorizer';

const HELP = `Usage: cognito-jwt config http-api-authorizer --user-pool-id POOL --client-id ID
         [--client-id ID ...] [--scopes SCOPE,...] [--audience URI ...] [--route "GET /orders" ...]
         [--api-ref LOGICAL_ID] [--name NAME]

Print, as CloudFormation JSON, API Gateway's own JWT authorizer for an HTTP API
(AWS::ApiGatewayV2::Authorizer) and the routes that use it (AWS::ApiGatewayV2::Route),
for a Cognito user pool. The template's Metadata (and stderr) lists what API Gateway
cannot check that this library checks. Nothing is sent anywhere.

Options:
  --user-pool-id POOL  the pool, e.g. eu-west-1_AbC123 (the issuer derives from it)
  --client-id ID       an app client id allowed in Audience (repeat for several)
  --scopes LIST        scopes every route requires (comma-separated, or repeat); then only
                       access tokens pass
  --audience URI       a resource URI that access tokens are bound to (RFC 8707), added to
                       Audience (repeat for several)
  --route KEY          a route key to protect (repeat); default "$default"
  --api-ref ID         the logical id of the AWS::ApiGatewayV2::Api; default HttpApi
  --name NAME          the authorizer's name; default cognito-jwt
  -h, --help           show this help

Examples:
  cognito-jwt config http-api-authorizer --user-pool-id eu-west-1_AbC123 --client-id 1example23456789 --scopes orders/read
  cognito-jwt config http-api-authorizer --user-pool-id eu-west-1_AbC123 --client-id 1example23456789 \\
    --scopes orders/read --audience https://api.example.com --route "GET /orders" --route "POST /orders"

Exit codes: 0 printed, 2 usage.`;

const LOGICAL_ID = /^[A-Za-z0-9]{1,255}$/;
// RFC 6749 scope-token: %x21 / %x23-5B / %x5D-7E.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The warnings the printed configuration carries, in the order they are printed. */
export function httpApiAuthorizerWarnings(input: {
  scopes: readonly string[];
  audiences: readonly string[];
}): string[] {
  const warnings: string[] = [];
  if (input.scopes.length === 0) {
    warnings.push(
      "No route scopes: API Gateway then accepts an ID token wherever an access token is meant (an ID token's aud is the app client id, which Audience lists). " +
        'Require scopes (--scopes), which only access tokens carry.',
    );
  }
  if (input.audiences.length === 0) {
    warnings.push(
      'API Gateway checks aud when a token has one and client_id only when it has none: an access token bound to a resource (aud = the resource URI) is refused. ' +
        'If clients ask for tokens with resource=, add that URI with --audience.',
    );
  } else {
    warnings.push(
      `A token whose aud is ${input.audiences.join(' or ')} passes whatever its client_id: API Gateway does not check client_id when aud is present.`,
    );
  }
  warnings.push(
    'API Gateway never reads token_use, cognito:groups or a revocation list: check groups in the integration (getCallerClaims from cognito-jwt/lambda), ' +
      'and revoked sessions stay valid until exp. For those checks use a Lambda authorizer (createHttpApiAuthorizer).',
  );
  return warnings;
}

/**
 * `cognito-jwt config http-api-authorizer`: print an HTTP API JWT authorizer for a user pool as
 * CloudFormation JSON, with what API Gateway cannot check listed as warnings.
 *
 * ```ts
 * await configHttpApiAuthorizerCommand.run(['--user-pool-id', 'eu-west-1_AbC123', '--client-id', 'abc', '--scopes', 'orders/read'], context);
 * ```
 */
export const configHttpApiAuthorizerCommand: Command = {
  name: NAME,
  summary: "print API Gateway's HTTP API JWT authorizer for a pool as CloudFormation, with its blind spots",
  help: HELP,
  async run(args, { terminal }) {
    const { values } = parseCommand(
      NAME,
      args,
      {
        'user-pool-id': { type: 'string' },
        'client-id': { type: 'string', multiple: true },
        scopes: { type: 'string', multiple: true },
        audience: { type: 'string', multiple: true },
        route: { type: 'string', multiple: true },
        'api-ref': { type: 'string' },
        name: { type: 'string' },
      },
      0,
    );
    const poolId = required(NAME, '--user-pool-id', values['user-pool-id']);
    if (!isUserPoolId(poolId))
      throw usageError(NAME, `--user-pool-id ${describeValue(poolId)} is not a user pool id`);
    const [issuer] = poolIssuers(poolId);
    const clients = required(NAME, '--client-id', values['client-id']);
    for (const client of clients) {
      if (!/^[\w+]{1,128}$/.test(client))
        throw usageError(NAME, `--client-id ${describeValue(client)} is not an app client id`);
    }
    const scopes = [
      ...new Set(
        (values.scopes ?? []).flatMap((list) => list.split(/[\s,]+/)).filter((scope) => scope !== ''),
      ),
    ];
    for (const scope of scopes) {
      if (!SCOPE.test(scope)) throw usageError(NAME, `--scopes: ${describeValue(scope)} is not a scope`);
    }
    const audiences = (values.audience ?? []).map((uri) => {
      try {
        return checkUrl('--audience', uri);
      } catch (error) {
        // Custom schemes are allowed by Cognito for resource binding; https and loopback http are what checkUrl knows.
        if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(uri) && !/^https?:/i.test(uri)) return uri;
        throw usageError(NAME, (error as Error).message);
      }
    });
    const apiRef = values['api-ref'] ?? 'HttpApi';
    if (!LOGICAL_ID.test(apiRef))
      throw usageError(NAME, `--api-ref ${describeValue(apiRef)} is not a CloudFormation logical id`);
    const name = values.name ?? 'cognito-jwt';
    const routes = values.route ?? ['$default'];
    const warnings = httpApiAuthorizerWarnings({ scopes, audiences });

    const resources: Record<string, unknown> = {
      CognitoJwtAuthorizer: {
        Type: 'AWS::ApiGatewayV2::Authorizer',
        Properties: {
          ApiId: { Ref: apiRef },
          AuthorizerType: 'JWT',
          IdentitySource: ['$request.header.Authorization'],
          JwtConfiguration: { Issuer: issuer, Audience: [...new Set([...clients, ...audiences])] },
          Name: name,
        },
      },
    };
    routes.forEach((routeKey, index) => {
      resources[`CognitoJwtRoute${index + 1}`] = {
        Type: 'AWS::ApiGatewayV2::Route',
        Properties: {
          ApiId: { Ref: apiRef },
          RouteKey: routeKey,
          AuthorizationType: 'JWT',
          AuthorizerId: { Ref: 'CognitoJwtAuthorizer' },
          ...(scopes.length > 0 ? { AuthorizationScopes: scopes } : {}),
        },
      };
    });
    const template = {
      Description: `HTTP API JWT authorizer for the Cognito user pool ${poolId} (printed by cognito-jwt)`,
      Metadata: { 'cognito-jwt': { warnings } },
      Resources: resources,
    };
    terminal.out.line(JSON.stringify(template, null, 2));
    for (const warning of warnings)
      terminal.err.line(`${terminal.err.paint(['bold', 'yellow'], 'warning')} ${warning}`);
    return EXIT.ok;
  },
};
