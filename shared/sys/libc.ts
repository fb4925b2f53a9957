// One koffi binding of the C library, loaded on first use, shared by the shared/sys modules.
import type { LibraryHandle } from 'koffi';

type Koffi = typeof import('koffi');

let bound: { koffi: Koffi; lib: LibraryHandle } | undefined;

/** koffi and libc, bound once: a daemon that never needs a direct call never loads the FFI. */
export function libc(): { koffi: Koffi; lib: LibraryHandle } {
  if (bound) return bound;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as Koffi;
  bound = { koffi, lib: koffi.load('libc.so.6') };
  return bound;
}

/** A getter for a set of libc functions, each bound from its C declaration on the first call. */
export function lazyFuncs<T extends object>(decls: { [K in keyof T]: string }): () => T {
  let funcs: T | undefined;
  return () => {
    if (funcs) return funcs;
    const { lib } = libc();
    funcs = Object.fromEntries(Object.entries(decls).map(([name, decl]) => [name, lib.func(decl as string)])) as T;
    return funcs;
  };
}
