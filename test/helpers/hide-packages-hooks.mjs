// The resolve hook of hide-packages.mjs (module hooks run on their own thread, from their own file).
let hidden = [];

export function initialize(data) {
  hidden = String(data)
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}

export async function resolve(specifier, context, next) {
  if (hidden.some((name) => specifier === name || specifier.startsWith(`${name}/`))) {
    const error = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
