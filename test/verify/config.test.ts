import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CognitoVerifier, JwksCache, type VerifierConfig } from '../../src/index.ts';
import { MAX_CLOCK_TOLERANCE_SECONDS } from '../../src/options.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { throwsCode } from '../helpers/assert-error.ts';

/** Build a verifier from a config written as JavaScript would, with no type checking. */
function construct(config: unknown, options = {}): CognitoVerifier {
  return new CognitoVerifier(config as VerifierConfig, options);
}

function configError(config: unknown, message: string | RegExp, options = {}): void {
  throwsCode(() => construct(config, options), 'ERR_CONFIG_INVALID', {
    name: 'ConfigError',
    status: 500,
    message,
  });
}

const base = { clientId: 'client1', tokenUse: 'access' } as const;

describe('userPoolId and the issuers it derives', () => {
  const forms: [string, string][] = [
    ['us-east-1_AbC123', 'https://cognito-idp.us-east-1.amazonaws.com'],
    ['eu-central-2_x9Y8z7', 'https://cognito-idp.eu-central-2.amazonaws.com'],
    ['ap-southeast-5_Q', 'https://cognito-idp.ap-southeast-5.amazonaws.com'],
    ['us-gov-west-1_AbC123', 'https://cognito-idp.us-gov-west-1.amazonaws.com'],
    ['us-gov-east-1_AbC123', 'https://cognito-idp.us-gov-east-1.amazonaws.com'],
    ['cn-north-1_AbC123', 'https://cognito-idp.cn-north-1.amazonaws.com.cn'],
    ['cn-northwest-1_AbC123', 'https://cognito-idp.cn-northwest-1.amazonaws.com.cn'],
  ];
  for (const [userPoolId, origin] of forms) {
    test(`${userPoolId} → ${origin}/${userPoolId} and its multi-Region issuer, each with its own JWKS URL`, () => {
      const verifier = new CognitoVerifier({ userPoolId, ...base });
      const multiRegion = origin.replace('https://cognito-idp.', 'https://issuer-cognito-idp.');
      assert.deepEqual(verifier.issuers, [
        { issuer: `${origin}/${userPoolId}`, jwksUri: `${origin}/${userPoolId}/.well-known/jwks.json` },
        {
          issuer: `${multiRegion}/${userPoolId}`,
          jwksUri: `${multiRegion}/${userPoolId}/.well-known/jwks.json`,
        },
      ]);
    });
  }

  test('a token from the multi-Region issuer verifies with keys fetched from that issuer’s JWKS URL', async () => {
    const key = generateKeyPair();
    const userPoolId = 'eu-west-1_Replica1';
    const issuer = `https://issuer-cognito-idp.eu-west-1.amazonaws.com/${userPoolId}`;
    const requested: string[] = [];
    // An injected fetch stands in for AWS: this test makes no request beyond the process.
    const fetchJwks: typeof fetch = async (input) => {
      requested.push(String(input));
      return new Response(JSON.stringify(buildJwks(key)), {
        headers: { 'content-type': 'application/json' },
      });
    };
    const verifier = new CognitoVerifier({ userPoolId, ...base }, { fetch: fetchJwks });
    const claims = await verifier.verify(mintAccessToken({ key, issuer, clientId: 'client1' }));
    assert.equal(claims.iss, issuer);
    assert.deepEqual(requested, [`${issuer}/.well-known/jwks.json`]);
  });

  const bad: unknown[] = [
    '',
    'us-east-1',
    'us-east-1_',
    '_AbC123',
    'us-east-1_Ab-C',
    'us-east-1_AbC/../x',
    'us-east-1_AbC?x=1',
    'us-east-1_AbC#',
    'us-east-1_AbC 1',
    `us-east-1_${'a'.repeat(50)}`,
    42,
    null,
    undefined,
    ['us-east-1_AbC123'],
  ];
  for (const userPoolId of bad) {
    test(`userPoolId ${JSON.stringify(userPoolId)} is refused at construction`, () => {
      configError({ userPoolId, ...base }, 'userPoolId must look like "us-east-1_AbC123"');
    });
  }

  for (const userPoolId of ['local_AbC123', 'useast1_AbC123']) {
    test(`${userPoolId} has no region: it needs an issuer override`, () => {
      configError({ userPoolId, ...base }, 'for an emulator pass its issuer as well');
      assert.ok(construct({ userPoolId, ...base, issuer: `http://127.0.0.1:9229/${userPoolId}` }));
    });
  }

  const notRegions: [string, string | undefined][] = [
    ['eu-wset-1_AbC123', 'eu-west-1'],
    ['us-esat-2_AbC123', 'us-east-2'],
    ['ap-sotheast-2_AbC123', 'ap-southeast-2'],
    ['US-EAST-1_AbC123', 'us-east-1'],
    ['us-east_AbC123', undefined],
    ['eu-west1_AbC123', undefined],
    ['europe-west-1_AbC123', undefined],
    ['us-gov-wset-1_AbC123', 'us-gov-west-1'],
  ];
  for (const [userPoolId, suggestion] of notRegions) {
    test(`${userPoolId}: not the shape of an AWS region, said at construction`, () => {
      const prefix = userPoolId.split('_')[0]!;
      configError(
        { userPoolId, ...base },
        `config 0: userPoolId "${userPoolId}" starts with "${prefix}", which is not an AWS region`,
      );
      if (suggestion) configError({ userPoolId, ...base }, `did you mean "${suggestion}"?`);
      else
        assert.throws(
          () => construct({ userPoolId, ...base }),
          (error: Error) => !/did you mean/.test(error.message),
        );
      // With an explicit issuer the pool id is only a name (emulators): it is not checked as a region.
      assert.ok(construct({ userPoolId, ...base, issuer: `http://127.0.0.1:9229/${userPoolId}` }));
    });
  }

  test('every region shape AWS uses is accepted, from the shape alone', () => {
    const regions = [
      'us-east-1',
      'us-west-2',
      'af-south-1',
      'ap-east-2',
      'ap-south-2',
      'ap-southeast-7',
      'ap-northeast-3',
      'ca-central-1',
      'ca-west-1',
      'eu-central-2',
      'eu-north-1',
      'eu-south-2',
      'il-central-1',
      'me-central-1',
      'mx-central-1',
      'sa-east-1',
      'cn-northwest-1',
      'us-gov-east-1',
      'us-iso-east-1',
      'us-isob-east-1',
      'us-isof-south-1',
      'eu-isoe-west-1',
      'eusc-de-east-1',
      // not a region today, but shaped like one: a new region must not need a release of this package
      'nz-north-1',
    ];
    const undocumented = /^(eusc-|[a-z]{2}-iso[a-z]?-)/;
    for (const region of regions) {
      const userPoolId = `${region}_AbC123`;
      // Partitions whose Cognito domain is not documented take their issuer and JWKS URL from the config.
      const where = undocumented.test(region)
        ? { issuer: `https://idp.example/${userPoolId}`, jwksUri: `https://idp.example/${userPoolId}/jwks` }
        : {};
      assert.ok(construct({ userPoolId, ...base, ...where }), region);
    }
  });

  test('partitions whose Cognito domain is undocumented need issuer and jwksUri, and say why', () => {
    for (const region of [
      'eusc-de-east-1',
      'us-iso-east-1',
      'us-isob-east-1',
      'us-isof-south-1',
      'eu-isoe-west-1',
    ]) {
      const userPoolId = `${region}_AbC123`;
      configError({ userPoolId, ...base }, /does not document Cognito's domain.*Set issuer and jwksUri/);
      configError(
        { userPoolId, ...base, issuer: `https://idp.example/${userPoolId}` },
        /does not document Cognito's domain: set jwksUri as well as issuer/,
      );
    }
    // GovCloud and China are documented: derived as before.
    const gov = new CognitoVerifier({ userPoolId: 'us-gov-west-1_AbC123', ...base });
    assert.equal(
      gov.issuers[0]?.issuer,
      'https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_AbC123',
    );
    const china = new CognitoVerifier({ userPoolId: 'cn-north-1_AbC123', ...base });
    assert.equal(
      china.issuers[0]?.issuer,
      'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123',
    );
  });
});

describe('issuer and jwksUri overrides', () => {
  test('an issuer override replaces both derived issuers; the JWKS URL follows it', () => {
    const verifier = new CognitoVerifier({
      userPoolId: 'local_4kYH3yNx',
      ...base,
      issuer: 'http://127.0.0.1:9229/local_4kYH3yNx',
    });
    assert.deepEqual(verifier.issuers, [
      {
        issuer: 'http://127.0.0.1:9229/local_4kYH3yNx',
        jwksUri: 'http://127.0.0.1:9229/local_4kYH3yNx/.well-known/jwks.json',
      },
    ]);
  });

  test('a jwksUri override applies to every issuer of the config', () => {
    const jwksUri = 'https://keys.example.com/pool.json';
    const derived = new CognitoVerifier({ userPoolId: 'us-east-1_AbC123', ...base, jwksUri });
    assert.deepEqual(
      derived.issuers.map((entry) => entry.jwksUri),
      [jwksUri, jwksUri],
    );
    const both = new CognitoVerifier({
      userPoolId: 'x_y',
      ...base,
      issuer: 'https://auth.example.com/x_y',
      jwksUri,
    });
    assert.deepEqual(both.issuers, [{ issuer: 'https://auth.example.com/x_y', jwksUri }]);
  });

  const loopback = [
    'http://127.0.0.1:9229/pool',
    'http://127.9.8.7/pool',
    'http://localhost:9229/pool',
    'http://[::1]:9229/pool',
    'https://cognito.example.com/pool',
  ];
  for (const url of loopback) {
    test(`${url} is accepted as issuer and as jwksUri`, () => {
      assert.ok(construct({ userPoolId: 'local_a', ...base, issuer: url, jwksUri: url }));
    });
  }

  const refused: [unknown, RegExp][] = [
    ['http://cognito.example.com/pool', /must use https: \(http: is accepted for loopback hosts only\)/],
    ['http://127.0.0.1.nip.io/pool', /must use https:/],
    ['http://localhost.example.com/pool', /must use https:/],
    ['http://0.0.0.0:9229/pool', /must use https:/],
    ['http://10.0.0.1/pool', /must use https:/],
    ['ftp://127.0.0.1/pool', /must use https:/],
    ['file:///etc/passwd', /must use https:/],
    ['https://user:secret@cognito.example.com/pool', /must not carry credentials/],
    ['not a url', /is not a valid URL/],
    ['', /is not a valid URL/],
    [42, /must be a URL string/],
    [null, /must be a URL string/],
  ];
  for (const [url, message] of refused) {
    test(`${JSON.stringify(url)} is refused as issuer and as jwksUri`, () => {
      configError({ userPoolId: 'local_a', ...base, issuer: url }, message);
      configError({ userPoolId: 'us-east-1_AbC123', ...base, jwksUri: url }, message);
    });
  }
});

describe('clientId and tokenUse are required, even from JavaScript', () => {
  test('a config without clientId throws at construction', () => {
    configError(
      { userPoolId: 'us-east-1_AbC123', tokenUse: 'id' },
      'clientId is required (use null to accept any client)',
    );
  });

  test('a config without tokenUse throws at construction', () => {
    configError(
      { userPoolId: 'us-east-1_AbC123', clientId: 'c' },
      "tokenUse is required ('id', 'access', or null for either)",
    );
  });

  test('keys that are present but undefined count as missing values', () => {
    configError(
      { userPoolId: 'us-east-1_AbC123', clientId: undefined, tokenUse: 'id' },
      'clientId must be a non-empty string',
    );
    configError(
      { userPoolId: 'us-east-1_AbC123', clientId: 'c', tokenUse: undefined },
      "tokenUse must be 'id', 'access' or null",
    );
  });

  for (const tokenUse of ['refresh', 'ID', 'both', '', 1, true]) {
    test(`tokenUse ${JSON.stringify(tokenUse)} is refused`, () => {
      configError(
        { userPoolId: 'us-east-1_AbC123', clientId: 'c', tokenUse },
        "tokenUse must be 'id', 'access' or null",
      );
    });
  }

  for (const clientId of ['', [], [''], ['a', 7], 7, {}, true]) {
    test(`clientId ${JSON.stringify(clientId)} is refused`, () => {
      configError(
        { userPoolId: 'us-east-1_AbC123', clientId, tokenUse: 'id' },
        'clientId must be a non-empty string',
      );
    });
  }

  test('null opts out explicitly; a string or a list of strings is a client allow-list', () => {
    for (const clientId of [null, 'a', ['a', 'b']]) {
      for (const tokenUse of [null, 'id', 'access'])
        assert.ok(construct({ userPoolId: 'us-east-1_AbC123', clientId, tokenUse }));
    }
  });

  test('a config that is not an object, or an empty list, is refused', () => {
    for (const config of [null, 'us-east-1_AbC123', 42]) configError(config, 'must be an object');
    configError([], 'at least one verifier config is needed');
    configError([{ userPoolId: 'us-east-1_AbC123', ...base }, null], 'must be an object');
  });

  test('the failing config of a list is named', () => {
    configError(
      [
        { userPoolId: 'us-east-1_AbC123', ...base },
        { userPoolId: 'us-east-1_Other', clientId: 'c' },
      ],
      /^config 1: tokenUse/,
    );
  });
});

describe('unknown options', () => {
  const typos: [string, string][] = [
    ['group', 'groups'],
    ['scope', 'scopes'],
    ['clientID', 'clientId'],
    ['tokenType', 'tokenUse'],
    ['clockTolerance', 'clockToleranceSeconds'],
    ['userPool', 'userPoolId'],
    ['jwksUrl', 'jwksUri'],
  ];
  for (const [name, near] of typos) {
    test(`a misspelt option "${name}" is refused with the closest known one ("${near}")`, () => {
      configError(
        { userPoolId: 'us-east-1_AbC123', ...base, [name]: 'x' },
        `config 0: unknown option "${name}"; did you mean "${near}"? (known: userPoolId,`,
      );
    });
  }

  test('an option with no near known one lists the known options', () => {
    configError(
      { userPoolId: 'us-east-1_AbC123', ...base, tenant: 'x' },
      'config 0: unknown option "tenant" (known: userPoolId,',
    );
  });

  const misplaced: [string, string][] = [
    ['region', 'the region comes from userPoolId'],
    ['aud', 'set clientId'],
    ['isRevoked', 'new CognitoVerifier(config, { isRevoked })'],
    ['timeoutMs', 'new CognitoVerifier(config, { timeoutMs })'],
  ];
  for (const [name, advice] of misplaced) {
    test(`"${name}" in a config says where it belongs`, () => {
      configError(
        { userPoolId: 'us-east-1_AbC123', ...base, [name]: 'x' },
        `config 0: "${name}" does not belong here: `,
      );
      configError(
        [
          { userPoolId: 'us-east-1_AbC123', ...base },
          { userPoolId: 'us-east-1_Other', ...base, [name]: 'x' },
        ],
        advice,
      );
    });
  }

  test('every documented option is known', () => {
    assert.ok(
      construct({
        userPoolId: 'us-east-1_AbC123',
        clientId: 'c',
        tokenUse: 'id',
        groups: 'g',
        scopes: 's',
        clockToleranceSeconds: 1,
        issuer: 'https://auth.example.com/pool',
        jwksUri: 'https://auth.example.com/pool/jwks.json',
        jwks: buildJwks(generateKeyPair()),
      }),
    );
  });
});

describe('groups, scopes and clockToleranceSeconds', () => {
  for (const name of ['groups', 'scopes']) {
    for (const value of ['', [], [''], [1], {}]) {
      test(`${name} ${JSON.stringify(value)} is refused`, () => {
        configError(
          { userPoolId: 'us-east-1_AbC123', ...base, [name]: value },
          `${name} must be a non-empty string`,
        );
      });
    }
  }

  test(`clockToleranceSeconds from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS} is accepted`, () => {
    assert.equal(MAX_CLOCK_TOLERANCE_SECONDS, 300);
    for (const clockToleranceSeconds of [0, 0.5, 30, 300]) {
      assert.ok(construct({ userPoolId: 'us-east-1_AbC123', ...base, clockToleranceSeconds }));
    }
  });

  for (const clockToleranceSeconds of [301, -1, Number.POSITIVE_INFINITY]) {
    test(`clockToleranceSeconds ${String(clockToleranceSeconds)} is refused (cap 300)`, () => {
      configError(
        { userPoolId: 'us-east-1_AbC123', ...base, clockToleranceSeconds },
        `config 0: clockToleranceSeconds must be between 0 and 300, got ${clockToleranceSeconds}`,
      );
    });
  }

  const wrongTypes: [unknown, string][] = [
    ['30', 'a string'],
    [null, 'null'],
    [Number.NaN, 'NaN'],
    [[30], 'an array'],
    [true, 'a boolean'],
  ];
  for (const [clockToleranceSeconds, kind] of wrongTypes) {
    test(`clockToleranceSeconds ${JSON.stringify(clockToleranceSeconds)}: the wrong type is named, not the range`, () => {
      configError(
        { userPoolId: 'us-east-1_AbC123', ...base, clockToleranceSeconds },
        `config 0: clockToleranceSeconds must be a number, got ${kind}`,
      );
    });
  }
});

describe('several configs', () => {
  test('two configs for the same pool are refused (merge them: clientId takes a list)', () => {
    configError(
      [
        { userPoolId: 'us-east-1_AbC123', clientId: 'a', tokenUse: 'id' },
        { userPoolId: 'us-east-1_AbC123', clientId: 'b', tokenUse: 'access' },
      ],
      'config 1: two configs accept the issuer https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123 (config 0 and config 1)',
    );
  });

  test('an issuer override that equals another config’s derived issuer is refused', () => {
    configError(
      [
        { userPoolId: 'us-east-1_AbC123', ...base },
        {
          userPoolId: 'x_y',
          ...base,
          issuer: 'https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123',
        },
      ],
      'two configs accept the issuer https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123',
    );
  });

  test('different pools, or the same pool id behind different issuers, are fine', () => {
    const verifier = construct([
      { userPoolId: 'us-east-1_AbC123', ...base },
      { userPoolId: 'eu-west-1_AbC123', ...base },
      { userPoolId: 'local_a', ...base, issuer: 'http://127.0.0.1:9229/local_a' },
      { userPoolId: 'local_a', ...base, issuer: 'http://127.0.0.1:9230/local_a' },
    ]);
    assert.equal(verifier.issuers.length, 6);
  });
});

describe('options', () => {
  test('cache options next to a shared jwksCache are refused (they belong to the cache)', () => {
    const jwksCache = new JwksCache();
    configError({ userPoolId: 'us-east-1_AbC123', ...base }, 'cooldownMs belongs to the shared jwksCache', {
      jwksCache,
      cooldownMs: 5,
    });
    const verifier = construct({ userPoolId: 'us-east-1_AbC123', ...base }, { jwksCache });
    assert.equal(verifier.jwksCache, jwksCache);
  });

  test('without a shared cache each verifier owns its own (no hidden global state)', () => {
    const a = construct({ userPoolId: 'us-east-1_AbC123', ...base });
    const b = construct({ userPoolId: 'us-east-1_AbC123', ...base });
    assert.notEqual(a.jwksCache, b.jwksCache);
  });
});

describe('every mistake in a config names the config', () => {
  const good = { userPoolId: 'us-east-1_AbC123', ...base };
  const mistakes: [string, unknown][] = [
    ['not an object', null],
    ['undefined', undefined],
    ['a misspelt key', { ...good, userPoolId: 'eu-west-1_AbC123', group: 'admins' }],
    ['a misplaced key', { ...good, userPoolId: 'eu-west-1_AbC123', region: 'eu-west-1' }],
    ['no clientId', { userPoolId: 'eu-west-1_AbC123', tokenUse: 'id' }],
    ['no tokenUse', { userPoolId: 'eu-west-1_AbC123', clientId: 'c' }],
    ['a bad userPoolId', { ...good, userPoolId: 'nope' }],
    ['a region that is not one', { ...good, userPoolId: 'eu-wset-1_AbC123' }],
    ['an emulator id without issuer', { ...good, userPoolId: 'local_AbC123' }],
    ['a bad tokenUse', { ...good, userPoolId: 'eu-west-1_AbC123', tokenUse: 'refresh' }],
    ['a bad clientId', { ...good, userPoolId: 'eu-west-1_AbC123', clientId: '' }],
    ['bad groups', { ...good, userPoolId: 'eu-west-1_AbC123', groups: [] }],
    ['bad scopes', { ...good, userPoolId: 'eu-west-1_AbC123', scopes: [1] }],
    ['a string clock tolerance', { ...good, userPoolId: 'eu-west-1_AbC123', clockToleranceSeconds: '30' }],
    ['an http issuer', { ...good, userPoolId: 'eu-west-1_AbC123', issuer: 'http://example.com/p' }],
    ['a bad jwksUri', { ...good, userPoolId: 'eu-west-1_AbC123', jwksUri: 'not a url' }],
    ['an unusable jwks snapshot', { ...good, userPoolId: 'eu-west-1_AbC123', jwks: { keys: 'none' } }],
    ['the same issuer as config 0', good],
  ];
  for (const [what, config] of mistakes) {
    test(`${what}: the message starts with "config 1: "`, () => {
      configError([good, config], /^config 1: /);
    });
  }
});
