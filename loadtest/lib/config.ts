/**
 * Run settings from the environment (`k6 run -e NAME=value` or the shell):
 *   BASE_URL  the gateway, default http://localhost:8080 (npm start and compose both publish 8080)
 *   WS_URL    default: BASE_URL with ws:// or wss://
 *   PROFILE   smoke (default: 1 VU per journey, a few iterations, a sanity check) | load (ramps, minutes)
 *   SCALE     multiplies the load profile's VUs and arrival rates (default 1)
 *   JOURNEYS  comma-separated subset of the journeys below (default: all)
 */
import type { Options, Scenario, Threshold } from 'k6/options';

export const JOURNEYS = ['auth', 'browse_rest', 'browse_graphql', 'create_course', 'buy_course', 'ws_list'] as const;
export type Journey = (typeof JOURNEYS)[number];

export const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8080').replace(/\/+$/, '');
export const WS_URL = (__ENV.WS_URL || BASE_URL.replace(/^http/, 'ws')).replace(/\/+$/, '');
export const PROFILE = (__ENV.PROFILE || 'smoke') as 'smoke' | 'load';
const SCALE = Number(__ENV.SCALE || '1');

if (PROFILE !== 'smoke' && PROFILE !== 'load') throw new Error(`PROFILE must be smoke or load, not "${PROFILE}"`);
if (!(SCALE > 0)) throw new Error(`SCALE must be a positive number, not "${__ENV.SCALE}"`);

export const SELECTED: Journey[] = (() => {
  if (!__ENV.JOURNEYS) return [...JOURNEYS];
  const wanted = __ENV.JOURNEYS.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((j) => !(JOURNEYS as readonly string[]).includes(j));
  if (unknown.length) throw new Error(`unknown JOURNEYS ${unknown.join(', ')}; known: ${JOURNEYS.join(', ')}`);
  return wanted as Journey[];
})();

/** How long a WebSocket list subscriber stays connected per iteration. */
export const WS_HOLD_MS = PROFILE === 'smoke' ? 3000 : 60000;

const n = (x: number) => Math.max(1, Math.round(x * SCALE));

/** Each journey is one scenario; `exec` names the exported function in platform.ts that runs it. */
function scenario(journey: Journey): Scenario {
  const exec = journey;
  if (PROFILE === 'smoke') {
    return { executor: 'per-vu-iterations', vus: 1, iterations: journey === 'ws_list' ? 1 : 3, maxDuration: '1m', exec };
  }
  switch (journey) {
    case 'auth': // argon2id hashing makes signup deliberately expensive: a modest steady rate
      return { executor: 'constant-arrival-rate', rate: n(2), timeUnit: '1s', duration: '4m', preAllocatedVUs: n(10), maxVUs: n(40), exec };
    case 'browse_rest':
      return {
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [
          { duration: '1m', target: n(30) },
          { duration: '3m', target: n(30) },
          { duration: '30s', target: 0 },
        ],
        exec,
      };
    case 'browse_graphql':
      return {
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [
          { duration: '1m', target: n(20) },
          { duration: '3m', target: n(20) },
          { duration: '30s', target: 0 },
        ],
        exec,
      };
    case 'create_course':
      return { executor: 'constant-arrival-rate', rate: n(2), timeUnit: '1s', duration: '4m', preAllocatedVUs: n(5), maxVUs: n(20), exec };
    case 'buy_course':
      return { executor: 'constant-arrival-rate', rate: n(10), timeUnit: '1s', duration: '4m', preAllocatedVUs: n(20), maxVUs: n(60), exec };
    case 'ws_list': // long-lived subscribers: each VU holds a socket for WS_HOLD_MS, then reconnects
      return { executor: 'constant-vus', vus: n(50), duration: '4m', exec };
  }
}

/**
 * Service-level objectives, the same for both profiles (smoke just has fewer samples).
 * Latency is p95 per journey; errors are failed requests (status >= 400 or no response) and failed checks.
 */
const LATENCY_P95_MS: Record<Journey, number> = {
  auth: 1500, // signup hashes with argon2id on purpose
  browse_rest: 500,
  browse_graphql: 500,
  create_course: 800,
  buy_course: 800, // users → gRPC → courses
  ws_list: 1000, // time from connect to the first full list
};

function thresholds(): Record<string, Threshold[]> {
  const t: Record<string, Threshold[]> = {
    // Under load, stop early when the system is clearly failing instead of hammering it for minutes.
    http_req_failed: PROFILE === 'load' ? [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '30s' }] : ['rate<0.01'],
    checks: ['rate>0.99'],
  };
  for (const j of SELECTED) {
    if (j === 'ws_list') {
      t.ws_first_list_ms = [`p(95)<${LATENCY_P95_MS.ws_list}`];
      t.ws_session_errors = ['rate<0.01'];
    } else {
      t[`http_req_duration{scenario:${j}}`] = [`p(95)<${LATENCY_P95_MS[j]}`];
      t[`http_req_failed{scenario:${j}}`] = ['rate<0.01'];
    }
  }
  return t;
}

export function buildOptions(): Options {
  const scenarios: Record<string, Scenario> = {};
  for (const j of SELECTED) scenarios[j] = scenario(j);
  return {
    scenarios,
    thresholds: thresholds(),
    setupTimeout: '2m',
    summaryTrendStats: ['avg', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}
