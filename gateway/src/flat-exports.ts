/**
 * Performance: @apollo/federation-internals (used by @apollo/gateway's query planning and result
 * shaping on every request) is compiled by tsc to CommonJS re-exports, where every access to
 * `federation_internals_1.X` goes through a getter (`get: () => m[k]`), often two levels deep. A
 * CPU profile of the gateway under load showed those getters among its hot frames (the optimisation
 * log in docs/benchmarks.md). Once the package has loaded, its exports never change, so the cached
 * module's exports are replaced by a plain object holding the same values before @apollo/gateway is
 * required. Imported first by server.ts.
 */
import { createRequire } from 'node:module';

const req = createRequire(require.resolve('@apollo/gateway'));

function flatten(id: string): void {
  try {
    const path = req.resolve(id);
    const mod = req(id) as Record<string, unknown>;
    const cached = require.cache[path];
    if (!cached || cached.exports !== mod) return;
    const plain: Record<string, unknown> = {};
    for (const k of Object.keys(mod)) plain[k] = mod[k];
    Object.defineProperty(plain, '__esModule', { value: true });
    cached.exports = plain;
  } catch {
    // not resolvable from here: nothing to speed up
  }
}

flatten('@apollo/federation-internals');
flatten('@apollo/query-planner');
