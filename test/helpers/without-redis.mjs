// `node --import tsx --import ./test/helpers/without-redis.mjs …`: the process runs as if the
// optional peer `redis` were not installed (its import fails as Node's own resolver would fail it).
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'redis' || specifier.startsWith('redis/') || specifier.startsWith('@redis/')) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`)}`,
);
