/**
 * ISO timestamps that never repeat or go backwards within this process, so "newest first" is
 * stable for writes made in the same millisecond (ties across replicas are broken by id).
 */
let last = 0;
export function nowIso(): string {
  const t = Math.max(Date.now(), last + 1);
  last = t;
  return new Date(t).toISOString();
}
