import type { RoleMethods } from './roles.js';

/**
 * Makes `store` answer every method of its role objects, each bound to its role object, so a store
 * composed of roles does not forward each method by hand (issue 9). The store declares the methods
 * (`interface X extends RoleMethods<R>`); they become own, non-enumerable properties, as class
 * methods are non-enumerable.
 *
 * Every prototype method of a role object is bound: a role class keeps its helpers as module
 * functions, or the store would expose them (test/unit/store/bind-roles.test.ts checks both stores
 * against METHOD_PLACE). A name the store already has (another role's, or the store's own) throws.
 */
export function bindRoles<R extends object>(store: RoleMethods<R>, roles: R): void {
  const target = store as Record<string, unknown>;
  for (const role of Object.values(roles) as object[]) {
    for (const name of methodNames(role)) {
      if (name in target) throw new Error(`store method ${name} is defined twice`);
      const method = (role as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
      Object.defineProperty(target, name, { value: method.bind(role), writable: true, configurable: true, enumerable: false });
    }
  }
}

/** Method names along the prototype chain of a class instance, below Object.prototype. */
function methodNames(role: object): string[] {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(role) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, name)?.value === 'function') names.add(name);
    }
  }
  return [...names];
}
