import { addressGroup } from '@dream/common';

/**
 * Counts live things (WebSocket connections, subscriptions) per client address group (IPv6 by /64)
 * and in total, so one client cannot take every socket or listener a gateway can hold, and the
 * gateway as a whole stays within what it can serve.
 */
export class PerAddressLimit {
  private readonly byGroup = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
  ) {}

  get size(): number {
    return this.total;
  }

  /** Why one more would break a limit, or null. */
  problem(address: string): string | null {
    if (this.total >= this.maxTotal) return `This gateway is at its limit of ${this.maxTotal}; try again later.`;
    if ((this.byGroup.get(addressGroup(address)) ?? 0) >= this.maxPerAddress)
      return `At most ${this.maxPerAddress} at once from one address: close some before opening more.`;
    return null;
  }

  /** Counts one for `address`; the returned function (idempotent) releases it. */
  acquire(address: string): () => void {
    const group = addressGroup(address);
    this.byGroup.set(group, (this.byGroup.get(group) ?? 0) + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const n = (this.byGroup.get(group) ?? 1) - 1;
      if (n <= 0) this.byGroup.delete(group);
      else this.byGroup.set(group, n);
    };
  }
}
