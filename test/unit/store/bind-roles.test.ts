import { describe, expect, it } from 'vitest';
import { bindRoles } from '../../../src/store/bind-roles.js';
import { PostgresStore } from '../../../src/store/postgres/postgres-store.js';
import type { StoreLifecycle } from '../../../src/store/roles.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { METHOD_PLACE } from '../../../src/store/sqlite/writer-protocol.js';

/** StoreLifecycle's methods the backends implement themselves (relink is the threaded store's only). */
const LIFECYCLE: Array<keyof StoreLifecycle> = ['start', 'stop', 'ping', 'shareWithThread', 'onRelink'];

/** Every role method: METHOD_PLACE covers every store method but the lifecycle ones, and onWorkAvailable (JobQueue) runs where it is called. */
const ROLE_METHODS = [...Object.keys(METHOD_PLACE).filter((m) => m !== 'ping'), 'onWorkAvailable'].sort();

const backends: Array<[string, () => object]> = [
  ['SqliteStore', () => new SqliteStore(':memory:')],
  // Never started: the constructor opens no connection.
  ['PostgresStore', () => new PostgresStore('postgres://u@127.0.0.1:1/db')],
];

describe('bindRoles', () => {
  for (const [name, make] of backends) {
    it(`${name} gets exactly the role methods, bound and not enumerable, beside its own lifecycle`, () => {
      const store = make();
      const bound = Object.getOwnPropertyNames(store).filter((p) => typeof (store as Record<string, unknown>)[p] === 'function');
      // A role class's helper method (instead of a module function) would show up here.
      expect(bound.sort()).toEqual(ROLE_METHODS);
      expect(Object.keys(store).filter((p) => bound.includes(p))).toEqual([]);
      for (const m of LIFECYCLE) expect(typeof (store as Record<string, unknown>)[m], m).toBe('function');
    });
  }

  it('a stopped store still answers store_closed through a bound method', async () => {
    const store = new SqliteStore(':memory:');
    await expect(store.getMeterKey('x')).rejects.toMatchObject({ code: 'store_closed' });
    await expect(store.insertTelegrams([], null, 0)).rejects.toMatchObject({ code: 'store_closed' });
    await store.start();
    expect(await store.getMeterKey('x')).toBeUndefined();
    await store.stop();
    await expect(store.listGateways(1)).rejects.toMatchObject({ code: 'store_closed' });
  });

  it('refuses two roles with the same method name', () => {
    class A {
      hello(): string {
        return 'a';
      }
    }
    class B {
      hello(): string {
        return 'b';
      }
    }
    const target = {} as { hello(): string };
    expect(() => bindRoles(target, { a: new A(), b: new B() })).toThrow(/hello is defined twice/);
  });

  it('binds each method to its role object, inherited methods included', () => {
    class Base {
      protected readonly n = 2;
      twice(x: number): number {
        return x * this.n;
      }
    }
    class Role extends Base {
      plus(x: number): number {
        return x + this.n;
      }
    }
    const target = {} as { twice(x: number): number; plus(x: number): number };
    bindRoles<{ role: Pick<Role, 'twice' | 'plus'> }>(target, { role: new Role() });
    const { twice, plus } = target;
    expect([twice(3), plus(3)]).toEqual([6, 5]);
  });
});
