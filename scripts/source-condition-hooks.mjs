// Node module hooks (registered by load-sources.mjs): resolve every import with the `@sandbox-terminal/source` export
// condition added, as `node --conditions=@sandbox-terminal/source` would, so the workspace packages resolve to their
// src/*.ts. For processes whose command line is not ours to write; see load-sources.mjs.
const SOURCE_CONDITION = '@sandbox-terminal/source';

export async function resolve(specifier, context, nextResolve) {
  if (context.conditions.includes(SOURCE_CONDITION)) return nextResolve(specifier, context);
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, SOURCE_CONDITION] });
}
