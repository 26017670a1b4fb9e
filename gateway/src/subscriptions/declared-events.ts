import { eventSubscriptionsOf, type EventSubscriptionField, type Logger } from '@dream/common';

/**
 * The Subscription fields subgraphs declare as fed by a Redis channel (`@eventSubscription`, see
 * packages/common/src/event-subscriptions.ts), read from the subgraph SDLs the gateway composes.
 * Refreshed on every composition, so a subgraph that starts (or changes) later needs no gateway code.
 */
/** A declared field and the subgraph whose SDL declared it. */
export type DeclaredEventField = EventSubscriptionField & { subgraph: string };

export class DeclaredEventFields {
  private fields = new Map<string, DeclaredEventField>();
  private readonly reported = new Set<string>();

  constructor(private readonly logger: Logger) {}

  get(field: string): DeclaredEventField | undefined {
    return this.fields.get(field);
  }

  get names(): string[] {
    return [...this.fields.keys()].sort();
  }

  refresh(sdls: ReadonlyArray<[string, string]>): void {
    const next = new Map<string, DeclaredEventField>();
    for (const [subgraph, sdl] of [...sdls].sort(([a], [b]) => a.localeCompare(b))) {
      let found: ReturnType<typeof eventSubscriptionsOf>;
      try {
        found = eventSubscriptionsOf(sdl);
      } catch {
        continue; // composition already refused an SDL that does not parse
      }
      for (const problem of found.problems) this.reportOnce(`${subgraph}:${problem}`, { subgraph, problem }, 'ignoring an @eventSubscription field');
      for (const f of found.fields) {
        const taken = next.get(f.field);
        // composition lets two subgraphs share a root field; the first by name feeds it (deterministic)
        if (taken) this.reportOnce(`${subgraph}:${f.field}`, { subgraph, field: f.field, feeder: taken.subgraph }, 'event subscription field declared twice');
        else next.set(f.field, { ...f, subgraph });
      }
    }
    const before = this.names.join(',');
    this.fields = next;
    if (this.names.join(',') !== before) this.logger.info({ fields: this.names }, 'event-fed subscription fields');
  }

  private reportOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.logger.warn(fields, message);
  }
}
