import type { Registration } from '@dream/common';
import { fetchBody, postGraphql, type GqlResult } from '@dream/common/testing';
import { loadCoursesConfig } from '../../../subgraphs/courses/src/config';
import { startCoursesSubgraph, type CoursesSubgraph } from '../../../subgraphs/courses/src/service';
import { loadUsersConfig } from '../../../subgraphs/users/src/config';
import { startUsersSubgraph, type UsersSubgraph } from '../../../subgraphs/users/src/service';
import type { MediaSubgraph } from '../../../subgraphs/media/src/service';
import type { MediaWorker } from '../../../subgraphs/media/src/worker';

/** What the stack needs of a running subgraph: its addresses and how to stop it. */
export interface RunningSubgraph {
  url: string;
  port: number;
  grpcPort: number;
  stop(): Promise<void>;
}

/** Starts one replica from its environment (the same variables `npm start` reads). */
export type SubgraphStarter<S extends RunningSubgraph = RunningSubgraph> = (env: Record<string, string>) => Promise<S>;

/** The subgraphs the stack knows by name; others are added with `Stack.service(name, start)`. */
export interface KnownSubgraphs {
  users: UsersSubgraph;
  courses: CoursesSubgraph;
  media: MediaSubgraph;
}

/**
 * Media's modules, loaded on first use: media brings @tus/server (ES modules only), which only the jest
 * projects that start media compile; every other suite imports the stack without loading it.
 */
function mediaModules() {
  return {
    config: require('../../../subgraphs/media/src/config') as typeof import('../../../subgraphs/media/src/config'),
    service: require('../../../subgraphs/media/src/service') as typeof import('../../../subgraphs/media/src/service'),
    worker: require('../../../subgraphs/media/src/worker') as typeof import('../../../subgraphs/media/src/worker'),
  };
}

export const KNOWN_SUBGRAPHS: { [N in keyof KnownSubgraphs]: SubgraphStarter<KnownSubgraphs[N]> } = {
  users: (env) => startUsersSubgraph(loadUsersConfig(env)),
  courses: (env) => startCoursesSubgraph(loadCoursesConfig(env)),
  media: (env) => {
    const { config, service } = mediaModules();
    return service.startMediaSubgraph(config.loadMediaConfig(env));
  },
};

export type { MediaWorker };

/** Starts media's transcoding worker (MEDIA_ROLE=worker) from its environment. */
export function startMediaWorkerFrom(env: Record<string, string>): Promise<MediaWorker> {
  const { config, worker } = mediaModules();
  return worker.startMediaWorker(config.loadMediaConfig({ ...env, MEDIA_ROLE: 'worker' }));
}

export interface SubgraphOptions {
  /** Added to the replica's environment (after the stack's `subgraphEnv`). */
  env?: Record<string, string>;
  /** HTTP port (default a free one); to come back on the address of a crashed replica. */
  port?: number;
  /** Register with discovery (default: when the stack runs discovery). */
  register?: boolean;
  /** Also register the replica's gRPC address, so peers call it over gRPC as in production. */
  grpc?: boolean;
  /**
   * Give the replica DISCOVERY_URL, so it finds its peers (users → courses over gRPC) and announces itself
   * as in production, with its SDL hash and HTTP route prefixes. With `register: false` its own
   * announcement is the only one: media needs that, since the gateway proxies /media/ only to instances
   * that announced the prefix, and the stack's registration (same instance) does not carry it.
   */
  discover?: boolean;
}

/** Bearer token or explicit headers for one request. */
export type Auth = string | Record<string, string>;

/** A subgraph replica the stack started, with a client bound to it. */
export interface Replica<S extends RunningSubgraph = KnownSubgraphs[keyof KnownSubgraphs]> {
  name: string;
  service: S;
  registration?: Registration;
  port: number;
  /** http://127.0.0.1:PORT/graphql */
  url: string;
  /** http://127.0.0.1:PORT */
  base: string;
  /** The environment it started with (a second replica can start from it). */
  env: Record<string, string>;
  stopped: boolean;
  gql(query: string, variables?: Record<string, unknown>, auth?: Auth): Promise<GqlResult>;
  http(path: string, init?: RequestInit): Promise<{ status: number; body: any }>;
}

export function replicaOf<S extends RunningSubgraph>(name: string, service: S, env: Record<string, string>): Replica<S> {
  const base = service.url.replace(/\/graphql$/, '');
  return {
    name,
    service,
    port: service.port,
    url: service.url,
    base,
    env,
    stopped: false,
    gql: (query, variables, auth) =>
      postGraphql(service.url, query, { variables, ...(typeof auth === 'string' ? { token: auth } : { headers: auth }) }),
    http: (path, init) => fetchBody(base + path, init),
  };
}
