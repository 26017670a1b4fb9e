import type { Logger } from '@dream/common';
import { eventSubscriptionsOf, isFixedChannel, type EventSubscriptionField } from '@dream/common/events';

/** A declared field and the subgraph whose SDL declared it. */
export type DeclaredEventField = EventSubscriptionField & { subgraph: string };

/**
 * The Subscription fields subgraphs declare as fed by a Redis channel (`@eventSubscription`, see
 * `@dream/common/events`), read from the subgraph SDLs the gateway composes. Refreshed on every
 * composition (followDeclaredEvents), so a subgraph that starts (or changes) later needs no gateway code.
 */
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
        if (isFixedChannel(f.channel)) {
          this.reportOnce(`${subgraph}:${f.field}:${f.channel}`, { subgraph, field: f.field, channel: f.channel }, 'ignoring an @eventSubscription field on one of the gateway\'s own channels (their events carry no id)');
          continue;
        }
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

/** Where the subgraph SDLs come from: the supergraph manager, narrowed to what is read. */
export interface SubgraphSdlSource {
  readonly subgraphSdls: ReadonlyArray<[string, string]>;
  on(event: 'composed', listener: () => void): unknown;
  off(event: 'composed', listener: () => void): unknown;
}

/** Declared fields kept in step with every composition; `stop` detaches them. */
export function followDeclaredEvents(source: SubgraphSdlSource, logger: Logger): { fields: DeclaredEventFields; stop(): void } {
  const fields = new DeclaredEventFields(logger);
  const refresh = () => fields.refresh(source.subgraphSdls);
  refresh();
  source.on('composed', refresh);
  return { fields, stop: () => void source.off('composed', refresh) };
}
