// `npm run schema`: write schema/service.schema.json from the config checker's key lists.
import { writeFileSync } from 'node:fs';
import { buildServiceSchema } from '../src/service/schema.ts';

const target = new URL('../schema/service.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(buildServiceSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
