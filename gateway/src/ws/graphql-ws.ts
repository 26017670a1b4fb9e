import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EventEmitter } from 'node:events';
import {
  GraphQLError,
  execute,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLSchema,
} from 'graphql';
import { handleProtocols } from 'graphql-ws';
import { costProblem, limitProblem, queryTooComplex, type QueryLimits } from '../limits';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError, extractToken, isServiceUnavailable, tokenFromValue, type AuthUser, type Logger } from '@dream/common';
import { eventMatchesArguments, type DeclaredEvent, type EventSubscriptionField } from '@dream/common/events';
import type { GatewayExecutor } from '../graphql/executor';
import type { DeclaredEventFields } from '../subscriptions/declared-events';
import { entityQueryFor, ENTITY_ID_VAR, ENTITY_KEY } from '../subscriptions/entity-selection';
import type { CourseEvent, EventBus, NotificationEvent } from '../subscriptions/event-bus';
import { EventStream } from '../subscriptions/event-stream';
import type { TrustedDocuments } from '../trusted-documents';
import { CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED } from './close-codes';
import type { PerAddressLimit } from './connection-limits';
import { ticketOf, type WsTickets } from './tickets';
import { closeWithin } from './bounded-close';


interface Session {
  request: IncomingMessage;
  /** The client's address (trusted proxies applied), for the per-address subscription limit. */
  address: string;
  token?: string;
  user?: AuthUser;
  socket: WebSocket;
}

export interface GraphqlWsOptions {
  connectionInitTimeoutMs: number;
  keepAliveMs: number;
  maxPayloadBytes: number;
  /** Operations (mostly subscriptions) one connection may have running at once; more are refused with RATE_LIMITED. */
  maxOperationsPerConnection: number;
  /** Live subscriptions per client address and in total. */
  subscriptions: PerAddressLimit;
  /** The depth, alias and cost limits of /graphql, checked on every subscribe. */
  limits: QueryLimits;
  /** The lexer's token limit of /graphql. */
  maxQueryTokens: number;
  /** The trusted-documents policy of /graphql. */
  trusted: Pick<TrustedDocuments, 'checkSubscribe'>;
  /** Redeems a `?ticket=` of the upgrade for the token it stands for. */
  tickets: Pick<WsTickets, 'redeem'>;
  /** Subscription fields subgraphs declare as fed by a Redis channel (kept in step with composition by its owner). */
  declared: Pick<DeclaredEventFields, 'get'>;
}

/** Course events queued for one fan-out group while its previous events resolve; more are dropped (and counted). */
export const MAX_GROUP_BACKLOG = 64;

/**
 * The token of a connection: connection_init payload (`jwt`, `Authorization`, `authorization`), else the
 * upgrade request's headers. Never the URL: browsers use a single-use `?ticket=` (see WsTickets).
 */
export function tokenOf(payload: Record<string, unknown> | undefined | null, request: IncomingMessage): string | undefined {
  for (const key of ['jwt', 'Authorization', 'authorization', 'token']) {
    const token = tokenFromValue(payload?.[key]);
    if (token) return token;
  }
  return extractToken(request.headers);
}

const norm = (s: string) => s.trim().toLowerCase();

/** Unsent bytes after which a subscriber misses course events (the iterator path drops past 256 queued events). */
const SLOW_CONSUMER_BYTES = 256 * 1024;

interface FanOutMember {
  /** The graphql-ws operation id. */
  id: string;
  socket: WebSocket;
  filter: (e: CourseEvent) => boolean;
  /** False once the operation ended (complete, socket closed). */
  live: boolean;
}

interface FanOutGroup {
  members: Set<FanOutMember>;
  /** Events accepted but not yet delivered (bounded by MAX_GROUP_BACKLOG). */
  pending: number;
  /** Events are delivered one after another per group, in the order they arrived. */
  tail: Promise<void>;
  off: () => void;
}

/**
 * graphql-ws on the gateway: Subscription fields are served here from the Redis event bus (one
 * subscriber connection per gateway); each course event is resolved with the client's own
 * selection through the federated query path, so `owner { username }` works. Queries and mutations
 * sent over the socket run through Apollo like POST /graphql.
 */
export class GraphqlWsServer extends EventEmitter {
  readonly wss: WebSocketServer;
  private readonly sessions = new WeakMap<object, Session>();
  private active = 0;
  private readonly dispose: { dispose(): void | Promise<void> };
  /**
   * Subscribers with the same selection and the same token share one federated query per event
   * (the bus hands every listener the same event object, so it keys the memo and is collected after).
   */
  private readonly perEvent = new WeakMap<object, Map<string, Promise<ExecutionResult | null>>>();
  /** Course subscriptions that share an answer (same channel, response key, selection, variables and token). */
  private readonly fanOut = new Map<string, FanOutGroup>();

  constructor(
    private readonly executor: GatewayExecutor,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly opts: GraphqlWsOptions,
  ) {
    super();
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayloadBytes,
      handleProtocols: (p) => handleProtocols(p),
    });
    this.dispose = useServer<Record<string, unknown>>(
      {
        // close reasons never carry internal error messages
        isProd: true,
        connectionInitWaitTimeout: opts.connectionInitTimeoutMs,
        schema: () => this.schema(),
        // Before the first supergraph: an error message for the operation, not a 4500 close.
        onSubscribe: (ctx, _id, payload) => {
          const schema = this.executor.schema();
          if (!schema) return [new AppError('SERVICE_UNAVAILABLE', 'The gateway has no supergraph yet.')];
          // a flood of subscribe messages on one socket must not pin unbounded listeners and queries
          // (ctx.subscriptions already holds this id; graphql-ws removes ids when they end)
          if (Object.keys(ctx.subscriptions).length > opts.maxOperationsPerConnection) {
            return [
              new AppError(
                'RATE_LIMITED',
                `At most ${opts.maxOperationsPerConnection} operations may run at once on one connection: complete some before starting more.`,
              ),
            ];
          }
          const session = this.sessions.get(ctx.extra.socket);
          const tooMany = session && opts.subscriptions.problem(session.address);
          if (tooMany) return [new AppError('RATE_LIMITED', `Too many subscriptions. ${tooMany}`)];
          // Parse, validate and check limits here: graphql-ws would close the whole socket with 4500
          // on a syntax error; an error message for this operation is what the client can act on.
          const untrusted = opts.trusted.checkSubscribe(payload.query);
          if (untrusted) return [untrusted];
          let document: DocumentNode;
          try {
            document = parse(payload.query, { maxTokens: opts.maxQueryTokens });
          } catch (err) {
            const message = err instanceof GraphQLError ? err.message : 'The operation could not be parsed.';
            return [new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
          }
          const invalid = validate(schema, document);
          if (invalid.length) return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
          const limits = opts.limits;
          const problem = limitProblem(document, limits);
          if (problem) return [new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT' } })];
          const operation = getOperationAST(document, payload.operationName);
          const tooCostly = operation && costProblem(schema, document, operation, payload.variables, limits);
          if (tooCostly) return [queryTooComplex(tooCostly)];
          return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
        },
        onConnect: async (ctx) => {
          const token = tokenOf(ctx.connectionParams, ctx.extra.request) ?? (await opts.tickets.redeem(ticketOf(ctx.extra.request)));
          let user: AuthUser | undefined;
          if (token !== undefined) {
            try {
              user = await this.executor.verify(token);
            } catch (err) {
              if (isServiceUnavailable(err)) ctx.extra.socket.close(CLOSE_TRY_AGAIN_LATER, 'Cannot check the token right now');
              else ctx.extra.socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized');
              return false;
            }
          }
          this.sessions.set(ctx.extra.socket, {
            request: ctx.extra.request,
            address: this.executor.clientAddress(ctx.extra.request),
            token,
            user,
            socket: ctx.extra.socket,
          });
          return true;
        },
        // the operation id lets course events be written to the socket directly (see courseStream)
        context: (ctx, id) => ({ session: this.sessions.get(ctx.extra.socket), operationId: id }),
        // a throw here would close the whole socket with 4500: answer the operation with an error instead
        execute: (args) => this.executeViaApollo(args).catch((err: unknown) => this.failed(err)),
        subscribe: (args) => this.subscribe(args).catch((err: unknown) => this.failed(err)),
      },
      this.wss,
      opts.keepAliveMs,
    );
  }

  /** Course events a fan-out group skipped because its backlog was full. */
  droppedEvents = 0;

  /** Live subscriptions on this gateway (tests wait on it before causing events). */
  get activeSubscriptions(): number {
    return this.active;
  }

  private schema(): GraphQLSchema {
    const schema = this.executor.schema();
    if (!schema) throw new AppError('SERVICE_UNAVAILABLE', 'The gateway has no supergraph yet.');
    return schema;
  }

  private sessionOf(args: ExecutionArgs): Session {
    const s = (args.contextValue as { session?: Session } | undefined)?.session;
    if (!s) throw new AppError('UNAUTHENTICATED', 'No connection session.');
    return s;
  }

  private contextOf(session: Session) {
    return this.executor.contextFor(session.request, randomUUID(), {
      token: session.token,
      user: session.user,
    });
  }

  /** A thrown error (e.g. an argument that does not coerce) answers the operation with an error, never a 4500 close. */
  private failed(err: unknown): ExecutionResult {
    if (err instanceof GraphQLError) return { errors: [err] };
    this.logger.error({ err }, 'subscription failed to start');
    return {
      errors: [new AppError('INTERNAL_SERVER_ERROR', 'Internal server error.')],
    };
  }

  private async executeViaApollo(args: ExecutionArgs): Promise<ExecutionResult> {
    if (!this.executor.serving())
      return {
        errors: [new AppError('SERVICE_UNAVAILABLE', 'The gateway has no supergraph yet.')],
      };
    const session = this.sessionOf(args);
    const res = await this.executor.execute(
      {
        query: args.document,
        variables: (args.variableValues ?? undefined) as Record<string, unknown> | undefined,
        operationName: args.operationName ?? undefined,
      },
      this.contextOf(session),
    );
    if (res.body.kind !== 'single')
      return {
        errors: [new GraphQLError('Incremental delivery is not supported over graphql-ws.')],
      };
    return res.body.singleResult as ExecutionResult;
  }

  private async subscribe(args: ExecutionArgs): Promise<ExecutionResult | AsyncIterableIterator<ExecutionResult>> {
    const session = this.sessionOf(args);
    const operation = getOperationAST(args.document, args.operationName);
    const field = operation?.selectionSet.selections[0];
    if (!operation || !field || field.kind !== Kind.FIELD) {
      return {
        errors: [new AppError('BAD_USER_INPUT', 'Select one subscription field directly (not through a fragment).')],
      };
    }
    const fieldDef = args.schema.getSubscriptionType()?.getFields()[field.name.value];
    if (!fieldDef)
      return {
        errors: [new AppError('BAD_USER_INPUT', `Unknown subscription field ${field.name.value}.`)],
      };
    const coerced = getVariableValues(
      args.schema,
      operation.variableDefinitions ?? [],
      (args.variableValues ?? {}) as Record<string, unknown>,
    );
    if (coerced.errors) return { errors: coerced.errors };
    const argValues = getArgumentValues(fieldDef, field, coerced.coerced) as Record<string, unknown>;
    const responseKey = field.alias?.value ?? field.name.value;

    switch (field.name.value) {
      case 'courseCreated': {
        const category = typeof argValues.category === 'string' ? norm(argValues.category) : undefined;
        return this.courseStream(args, session, field, responseKey, 'course.created', (e) => !category || norm(e.category) === category);
      }
      case 'courseUpdated': {
        const id = typeof argValues.id === 'string' ? argValues.id : undefined;
        return this.courseStream(args, session, field, responseKey, 'course.updated', (e) => !id || e.courseId === id);
      }
      case 'courseDeleted':
        return this.payloadStream(
          args,
          'course.deleted',
          field.name.value,
          () => true,
          (e: CourseEvent) => ({
            id: e.courseId,
            message: `Course ${e.courseId} deleted successfully.`,
          }),
        );
      case 'myNotifications': {
        const user = session.user;
        if (!user) {
          session.socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: myNotifications needs a token in connection_init');
          return {
            errors: [new AppError('UNAUTHENTICATED', 'myNotifications needs a signed-in user.')],
          };
        }
        return this.payloadStream(
          args,
          'notification',
          field.name.value,
          (e: NotificationEvent) => e.userId === user.id,
          (e: NotificationEvent) => ({
            kind: e.kind,
            courseId: e.courseId ?? null,
            text: e.text,
            createdAt: e.createdAt ?? new Date().toISOString(),
          }),
          () => this.tokenStillValid(session),
        );
      }
      default: {
        const declared = this.opts.declared.get(field.name.value);
        if (declared) return this.declaredStream(args, session, field, responseKey, declared, argValues);
        return {
          errors: [new AppError('BAD_USER_INPUT', `Subscription field ${field.name.value} is not served by this gateway.`)],
        };
      }
    }
  }

  private track<E>(session: Session, subscribe: (push: (e: E) => void) => () => void, map: (e: E) => Promise<ExecutionResult | null>) {
    this.active++;
    const release = this.opts.subscriptions.acquire(session.address);
    const stream = new EventStream<E>((push) => {
      const off = subscribe(push);
      return () => {
        off();
        release();
        this.active--;
        this.emit('unsubscribed', this.active);
      };
    }, map);
    this.emit('subscribed', this.active);
    return stream;
  }

  /** The per-event entity query for a subscriber's field, the variables it needs, and who may share its answer. */
  private entitySelection(args: ExecutionArgs, session: Session, field: FieldNode, rootField: string) {
    const { query, variableNames } = entityQueryFor(args.document, getOperationAST(args.document, args.operationName)!, field, rootField);
    const raw = (args.variableValues ?? {}) as Record<string, unknown>;
    const baseVars: Record<string, unknown> = {};
    for (const n of variableNames) if (n in raw) baseVars[n] = raw[n];
    // the answer depends on the selection, its variables and who asks (e.g. User.email is the caller's only)
    const key = `${query}\u0000${JSON.stringify(baseVars)}\u0000${session.token ?? ''}`;
    return { query, baseVars, key };
  }

  /** Course events: the course is fetched with the client's selection through the supergraph. */
  private courseStream(
    args: ExecutionArgs,
    session: Session,
    field: FieldNode,
    responseKey: string,
    channel: 'course.created' | 'course.updated',
    filter: (e: CourseEvent) => boolean,
  ) {
    const { query, baseVars, key } = this.entitySelection(args, session, field, 'course');
    const operationId = (args.contextValue as { operationId?: unknown } | undefined)?.operationId;
    if (typeof operationId === 'string') {
      return this.fanOutStream(channel, responseKey, key, query, baseVars, session, { id: operationId, socket: session.socket, filter, live: true });
    }
    return this.track<CourseEvent>(
      session,
      (push) => this.bus.on(channel, (e) => filter(e) && push(e)),
      (e) => this.resolveShared(e, e.courseId, key, query, baseVars, responseKey, session),
    );
  }

  /**
   * A subgraph-declared event field (@eventSubscription): events on its channel whose payload matches
   * the subscription's arguments; each one's entity is fetched through the declared root query field
   * with the subscriber's selection and token (an entity the subscriber may not see is not delivered).
   */
  private declaredStream(
    args: ExecutionArgs,
    session: Session,
    field: FieldNode,
    responseKey: string,
    declared: EventSubscriptionField,
    argValues: Record<string, unknown>,
  ) {
    const { query, baseVars, key } = this.entitySelection(args, session, field, declared.query);
    return this.track<DeclaredEvent>(
      session,
      (push) => this.bus.onChannel(declared.channel, (e) => eventMatchesArguments(e, argValues) && push(e)),
      (e) => this.resolveShared(e, e.id, key, query, baseVars, responseKey, session),
    );
  }

  /** One entity query per event and distinct (selection, variables, token), shared by the subscribers that have the same. */
  private resolveShared(
    e: object,
    id: string,
    key: string,
    query: string,
    baseVars: Record<string, unknown>,
    responseKey: string,
    session: Session,
  ): Promise<ExecutionResult | null> {
    let memo = this.perEvent.get(e);
    if (!memo) this.perEvent.set(e, (memo = new Map()));
    let result = memo.get(key);
    if (!result) memo.set(key, (result = this.resolveEntity(id, query, baseVars, responseKey, session)));
    return result.then((r) => r && (r.data ? { ...r, data: { [responseKey]: r.data[ENTITY_KEY] } } : r));
  }

  /**
   * The fan-out path for course events. graphql-ws would map, stringify and send every event once per
   * subscription through its async iterator; with 10,000 subscribers that per-socket work decided the
   * delivery latency. Here the subscribers that share an answer form one group: per event the course is
   * resolved once, the `next` payload is serialized once, and each subscriber gets the same bytes
   * behind its own operation id, written straight to its socket in the graphql-transport-ws format
   * (`{"id":…,"type":"next","payload":…}`, what graphql-ws itself sends). graphql-ws still owns the
   * operation: the returned stream yields nothing and its return() (client `complete`, socket close)
   * takes the subscriber out of its group at once. Events reach one group's subscribers in order.
   */
  private fanOutStream(
    channel: 'course.created' | 'course.updated',
    responseKey: string,
    key: string,
    query: string,
    baseVars: Record<string, unknown>,
    session: Session,
    member: FanOutMember,
  ) {
    const groupKey = `${channel}\u0000${responseKey}\u0000${key}`;
    return this.track<CourseEvent>(
      session,
      () => {
        let group = this.fanOut.get(groupKey);
        if (!group) {
          const g: FanOutGroup = { members: new Set(), pending: 0, tail: Promise.resolve(), off: () => undefined };
          g.off = this.bus.on(channel, (e) => this.fanOutEvent(g, e, key, query, baseVars, responseKey, session));
          this.fanOut.set(groupKey, (group = g));
        }
        const g = group;
        g.members.add(member);
        return () => {
          member.live = false;
          g.members.delete(member);
          if (g.members.size === 0 && this.fanOut.get(groupKey) === g) {
            g.off();
            this.fanOut.delete(groupKey);
          }
        };
      },
      async () => null,
    );
  }

  private fanOutEvent(
    group: FanOutGroup,
    e: CourseEvent,
    key: string,
    query: string,
    baseVars: Record<string, unknown>,
    responseKey: string,
    session: Session,
  ): void {
    // who gets this event is decided when it arrives (as a per-subscriber listener would)
    const targets: FanOutMember[] = [];
    for (const m of group.members) if (m.filter(e)) targets.push(m);
    if (!targets.length) return;
    // A burst of events faster than their course can be resolved must not queue without bound (each
    // holds a pending query and a closure): past the backlog the group skips events, as a slow socket does.
    if (group.pending >= MAX_GROUP_BACKLOG) {
      this.droppedEvents++;
      return;
    }
    group.pending++;
    group.tail = group.tail
      .then(async () => {
        const payload = await this.resolveShared(e, e.courseId, key, query, baseVars, responseKey, session);
        if (!payload) return;
        const rest = `,"type":"next","payload":${JSON.stringify(payload)}}`;
        for (const m of targets) {
          if (!m.live || m.socket.readyState !== m.socket.OPEN) continue;
          // a consumer this far behind is slow: it misses events rather than buffering without bound
          if (m.socket.bufferedAmount > SLOW_CONSUMER_BYTES) continue;
          m.socket.send(`{"id":${JSON.stringify(m.id)}${rest}`);
        }
      })
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message, courseId: e.courseId }, 'could not deliver a subscription event'))
      .finally(() => group.pending--);
  }

  /** Runs the per-event entity query; data stays under ENTITY_KEY (each subscriber renames it to its own field). */
  private async resolveEntity(
    id: string,
    query: string,
    baseVars: Record<string, unknown>,
    responseKey: string,
    session: Session,
  ): Promise<ExecutionResult | null> {
    if (!this.executor.serving()) return null;
    try {
      const res = await this.executor.execute(
        { query, variables: { ...baseVars, [ENTITY_ID_VAR]: id } },
        this.contextOf(session),
      );
      if (res.body.kind !== 'single') return null;
      const { data, errors } = res.body.singleResult;
      const entity = (data as Record<string, unknown> | null | undefined)?.[ENTITY_KEY];
      // deleted again before we looked, or not the subscriber's to see
      if (entity == null && !errors?.length) return null;
      return {
        data: entity == null ? null : { [ENTITY_KEY]: entity },
        ...(errors?.length ? { errors: errors as unknown as GraphQLError[] } : {}),
      };
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, id, responseKey }, 'could not resolve a subscription event');
      return null;
    }
  }

  /** Events that carry everything the type needs: executed locally with the payload as root value. */
  private payloadStream<C extends 'course.deleted' | 'notification'>(
    args: ExecutionArgs,
    channel: C,
    fieldName: string,
    filter: (e: C extends 'notification' ? NotificationEvent : CourseEvent) => boolean,
    toValue: (e: C extends 'notification' ? NotificationEvent : CourseEvent) => Record<string, unknown>,
    /** Checked before each delivery; false drops the event (the guard closes the socket itself). */
    guard?: () => Promise<boolean>,
  ) {
    type E = C extends 'notification' ? NotificationEvent : CourseEvent;
    return this.track<E>(
      this.sessionOf(args),
      (push) => this.bus.on(channel, (e) => filter(e as E) && push(e as E)),
      async (e) => {
        if (guard && !(await guard())) return null;
        return execute({
          ...args,
          rootValue: { [fieldName]: toValue(e) },
        }) as Promise<ExecutionResult>;
      },
    );
  }

  /**
   * The connection's token is verified once in connection_init, but a socket can outlive it: private
   * events are only delivered while the token is still valid and not revoked (logout). Otherwise the
   * socket is closed with 4401 so the client signs in again.
   */
  private async tokenStillValid(session: Session): Promise<boolean> {
    if (session.token === undefined) return false;
    try {
      await this.executor.verify(session.token);
      return true;
    } catch (err) {
      // fail closed: the event is not delivered, but an outage of the denylist is not the client's fault
      if (isServiceUnavailable(err)) return false;
      session.socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: the token has expired or was revoked');
      return false;
    }
  }

  /** Hands an upgrade on /graphql to graphql-ws. */
  handleUpgrade(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  async close(): Promise<void> {
    // graphql-ws closes every socket with 1001 Going Away and completes the subscriptions.
    await closeWithin(this.wss, () => this.dispose.dispose());
  }
}
