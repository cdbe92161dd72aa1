import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { checkServiceConfig } from '../../src/service/config.ts';
import { buildServiceSchema, SERVICE_SCHEMA_URL } from '../../src/service/schema.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Every service config the docs show: their ```json blocks that are configs, and the quick start's heredoc. */
function documentedConfigs(): { where: string; config: Record<string, unknown> }[] {
  const found: { where: string; config: Record<string, unknown> }[] = [];
  for (const file of ['README.md', 'docs/service.md']) {
    const text = read(file);
    for (const match of text.matchAll(/```json\n([\s\S]*?)```/g)) {
      const config = JSON.parse(match[1]!) as Record<string, unknown>;
      found.push({ where: `${file}:${text.slice(0, match.index).split('\n').length}`, config });
    }
    for (const match of text.matchAll(/cat > service\.json <<'EOF'\n([\s\S]*?)\nEOF/g)) {
      found.push({ where: `${file} (heredoc)`, config: JSON.parse(match[1]!) as Record<string, unknown> });
    }
  }
  return found;
}

test('the committed schema is the one `npm run schema` generates', () => {
  assert.deepEqual(
    JSON.parse(read('schema/service.schema.json')),
    buildServiceSchema(),
    'schema/service.schema.json is out of date: run npm run schema',
  );
  const pkg = JSON.parse(read('package.json')) as { files: string[] };
  assert.ok(pkg.files.includes('schema'), 'the schema ships in the package');
});

test('every documented example config validates, and every whole config references the schema', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(buildServiceSchema());
  const configs = documentedConfigs();
  assert.ok(configs.length >= 5, `found ${configs.length} example configs`);
  for (const { where, config } of configs) {
    assert.ok(validate(config), `${where}: ${ajv.errorsText(validate.errors)}`);
    if ('pools' in config || 'routes' in config) {
      assert.match(
        String(config.$schema),
        /schema\/service\.schema\.json$/,
        `${where} references the schema`,
      );
    }
  }
});

test('the schema refuses what the checker refuses: unknown and misplaced keys, wrong types', () => {
  const validate = new Ajv2020({ strict: true }).compile(buildServiceSchema());
  const base = { pools: [{ userPoolId: 'eu-west-1_AbC123', clientId: null, tokenUse: 'access' }] };
  assert.ok(validate(base));
  for (const wrong of [
    { ...base, rotues: [] },
    { ...base, userPoolId: 'eu-west-1_AbC123' },
    { ...base, listen: { port: 'http' } },
    { ...base, pools: [{ ...base.pools[0], region: 'eu-west-1' }] },
    { ...base, routes: [{ path: '/x', require: 'everyone' }] },
    { ...base, log: { level: 'loud' } },
  ]) {
    assert.equal(validate(wrong), false, JSON.stringify(wrong));
    assert.throws(() => checkServiceConfig(wrong, { baseDir: '.', env: {} }), { code: 'ERR_CONFIG_INVALID' });
  }
});

test('"$schema" is accepted and ignored by the config checker; it must be a string', () => {
  const config = {
    $schema: SERVICE_SCHEMA_URL,
    pools: [{ userPoolId: 'eu-west-1_AbC123', clientId: null, tokenUse: null }],
  };
  const settings = checkServiceConfig(config, { baseDir: '.', env: {} });
  assert.equal(settings.pools.length, 1);
  assert.throws(() => checkServiceConfig({ ...config, $schema: 42 }, { baseDir: '.', env: {} }), {
    code: 'ERR_CONFIG_INVALID',
    message: /"\$schema" must be a string/,
  });
});
