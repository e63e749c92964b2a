/**
 * Kibana's bundle loader, as its bootstrap script defines it: `define(key, fn, moduleKey)` refuses a second
 * definition of a key; `get(key)` returns `fn(moduleKey)`. Loaded before any plugin bundle.
 */
type BundleFn = (moduleKey: string) => unknown;

const defined = new Map<string, { fn: BundleFn; moduleKey: string }>();

(window as unknown as { __kbnBundles__: unknown }).__kbnBundles__ = {
  define(key: string, fn: BundleFn, moduleKey: string): void {
    if (defined.has(key)) throw new Error(`${key} is already defined`);
    defined.set(key, { fn, moduleKey });
  },
  has(key: string): boolean {
    return defined.has(key);
  },
  get(key: string): unknown {
    const d = defined.get(key);
    if (!d) throw new Error(`${key} is not defined: its bundle did not load`);
    return d.fn(d.moduleKey);
  },
};
