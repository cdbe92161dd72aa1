// `npm run schema`: write schema/service.schema.json from the config checker's key lists (then
// formatted by Biome, as every JSON file of the repository is).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildServiceSchema } from '../src/service/schema.ts';

const target = fileURLToPath(new URL('../schema/service.schema.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(buildServiceSchema(), null, 2)}\n`);
execFileSync('npx', ['biome', 'format', '--write', target], { stdio: 'ignore' });
console.log(`wrote ${target}`);
