/**
 * The same object with some members replaced: the faulty view of a service's collaborator (its log,
 * CA or TSA), so the service itself runs its normal code. Everything not replaced is the target's
 * own member, methods bound to it (its internal calls never see the replacements).
 */
export function delegate<T extends object>(target: T, replaced: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(replaced, prop)) return (replaced as Record<string | symbol, unknown>)[prop];
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
    },
  });
}
