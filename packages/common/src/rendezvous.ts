import { createHash } from 'node:crypto';

const weight = (key: string, id: string) => createHash('sha256').update(`${key}\n${id}`).digest().readUIntBE(0, 6);

/**
 * Rendezvous (highest random weight) hashing: the item whose hash with `key` is highest. A key
 * stays on its item while that item is present, and when items come or go only the keys of those
 * items move (a modulo hash would reshuffle almost all of them).
 */
export function rendezvousPick<T>(key: string, items: readonly T[], idOf: (item: T) => string): T | undefined {
  let best: T | undefined;
  let bestWeight = -1;
  for (const item of items) {
    const w = weight(key, idOf(item));
    if (w > bestWeight) {
      best = item;
      bestWeight = w;
    }
  }
  return best;
}
