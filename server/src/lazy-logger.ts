import type { Bindings, Level, Logger } from 'pino';

const LEVEL_METHODS = new Set<string | symbol>(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
const ignore = () => undefined;

/**
 * `parent.child(bindings)`, made only when a line is written at a level that is on. pino serializes a child's
 * bindings when the child is made; every HTTP request got one for its id and one for its sandbox and session, and
 * most requests write no line at the default level (their one line is `debug`). In a CPU profile of sequential
 * session execs, making the two children was about 3% of the relay's main thread.
 *
 * A call at a level that is off costs a level check and nothing else. Anything else (`child`, `level`, `bindings()`)
 * makes the child and answers from it; `child` on a lazy logger stays lazy.
 */
export function lazyChild(parent: Logger, bindings: Bindings): Logger {
  let child: Logger | undefined;
  const made = () => (child ??= parent.child(bindings));
  return new Proxy(parent, {
    get(_target, key) {
      if (LEVEL_METHODS.has(key) && !child && !parent.isLevelEnabled(key as Level)) return ignore;
      if (key === 'child' && !child) return (more: Bindings) => lazyChild(parent, { ...bindings, ...more });
      const value: unknown = Reflect.get(made(), key);
      return typeof value === 'function' ? value.bind(child) : value;
    },
    set(_target, key, value) {
      return Reflect.set(made(), key, value);
    },
  });
}
