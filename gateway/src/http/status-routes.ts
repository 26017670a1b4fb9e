/**
 * The gateway's status routes, in one place so deploy checks (test/k8s.test.ts) read what the server does.
 * Guarded: they name internal addresses and breaker states, so they answer 401 without
 * `Authorization: Bearer <STATUS_TOKEN>` (or, with no STATUS_TOKEN, to anyone not on loopback).
 */
export const GUARDED_STATUS_ROUTES: readonly string[] = ['/ready', '/metrics'];
/**
 * Public: /health (200 once a supergraph is composed: readiness) and /live (200 whenever the event loop
 * answers, whatever the subgraphs do: liveness; it reveals nothing).
 */
export const PUBLIC_STATUS_ROUTES: readonly string[] = ['/health', '/live'];
