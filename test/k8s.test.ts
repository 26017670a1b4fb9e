/**
 * deploy/k8s: every overlay renders (kubectl's built-in kustomize, offline), every object is valid
 * against the Kubernetes schemas that the kubernetes-models package carries (nothing fetched), and the
 * manifests keep the promises docs/deployment.md makes: probes on real routes, requests and limits,
 * an autoscaler and a disruption budget per service, a grace period longer than the services'
 * shutdown, Secrets only referenced, only the gateway open to the outside, and no environment
 * variable the code does not read. Against the security model: NODE_ENV=production with every secret
 * each service's code requires then (its exported requiredSecrets), probes only on routes that answer
 * without a token (the gateway's guarded status routes come from its own module), Redis with a password.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { discoveryEnv, requiredSecrets as discoverySecrets } from '../discovery/src/config';
import { gatewayEnv, requiredSecrets as gatewaySecrets } from '../gateway/src/config';
import { GUARDED_STATUS_ROUTES, PUBLIC_STATUS_ROUTES } from '../gateway/src/http/status-routes';
import { coursesEnv, requiredSecrets as coursesSecrets } from '../subgraphs/courses/src/config';
import { usersEnv, requiredSecrets as usersSecrets } from '../subgraphs/users/src/config';
import { mediaEnv, requiredSecrets as mediaSecrets, workerRequiredSecrets } from '../subgraphs/media/src/config';
import { tracingEnv } from '../packages/common/src/tracing';

const ROOT = resolve(__dirname, '..');
const OVERLAYS = join(ROOT, 'deploy', 'k8s', 'overlays');

/** Every variable each of our images reads (the zod shapes its config is loaded from; tracing in each main.ts). */
const keysOf = (shape: object) => new Set([...Object.keys(shape), ...Object.keys(tracingEnv)]);
const CONFIG_KEYS: Record<string, Set<string>> = {
  gateway: keysOf(gatewayEnv),
  discovery: keysOf(discoveryEnv),
  users: keysOf(usersEnv),
  courses: keysOf(coursesEnv),
  media: keysOf(mediaEnv),
  // the media image in the worker role: the same config shape
  'media-worker': keysOf(mediaEnv),
};
const OUR_SERVICES = Object.keys(CONFIG_KEYS);
/** installShutdown's default: the longest a service's SIGTERM handling takes before it exits anyway. */
const SHUTDOWN_TIMEOUT_SECONDS = 10;
/** What each service refuses to start without under NODE_ENV=production, as its code says (given its env). */
const REQUIRED_SECRETS: Record<string, (env: { DISCOVERY_URL?: string }) => string[]> = {
  gateway: gatewaySecrets,
  discovery: discoverySecrets,
  users: usersSecrets,
  courses: coursesSecrets,
  media: mediaSecrets,
  'media-worker': workerRequiredSecrets,
};
/**
 * Routes each service answers without a token: the gateway's from its status-routes module; subgraphs
 * (packages/common subgraph-server: /health, /metrics, no guard); discovery: /health (everything under
 * /v1 wants the DISCOVERY_TOKEN). A probe cannot carry a Secret, so it may only use these.
 */
const OPEN_ROUTES: Record<string, readonly string[]> = {
  gateway: PUBLIC_STATUS_ROUTES,
  discovery: ['/health'],
  users: ['/health', '/metrics'],
  courses: ['/health', '/metrics'],
  media: ['/health', '/metrics'],
  // the worker serves nothing else (src/worker-health.ts)
  'media-worker': ['/health'],
};
/** Routes that answer 401 to a request without `Authorization` (as a kubelet's probe is). */
const answers401 = (app: string, path: string) =>
  (app === 'gateway' && GUARDED_STATUS_ROUTES.includes(path)) || (app === 'discovery' && path.startsWith('/v1'));

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}
interface Probe {
  httpGet?: { path: string; port: string | number; httpHeaders?: Array<{ name: string; value: string }> };
  tcpSocket?: { port: string | number };
  exec?: unknown;
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown> & {
    template?: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; terminationGracePeriodSeconds?: number } };
  };
  data?: Record<string, string>;
}
type Rule = { from?: Array<Record<string, unknown>>; ports?: Array<{ port: number }> };
type EgressRule = { to?: Array<Record<string, unknown>>; ports?: Array<{ port: number; protocol?: string }> };

function render(overlay: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', join(OVERLAYS, overlay)], { encoding: 'utf8' });
  if (r.error) throw new Error(`kubectl is needed to render deploy/k8s (its built-in kustomize): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJSON() as K8sObject);
}

/** The kubernetes-models class for an apiVersion/kind, e.g. apps/v1 Deployment. */
function validate(obj: K8sObject): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`kubernetes-models/${obj.apiVersion}/${obj.kind}`) as Record<string, new (o: unknown) => { validate(): void }>;
  new mod[obj.kind](obj).validate();
}

const workloads = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const appOf = (o: K8sObject) => o.spec!.template!.metadata.labels['app.kubernetes.io/name'];
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

const overlays = readdirSync(OVERLAYS);

describe.each(overlays)('deploy/k8s/overlays/%s', (overlay) => {
  let objs: K8sObject[];
  beforeAll(() => {
    objs = render(overlay);
  });

  it('renders, and every object is valid against the Kubernetes schemas', () => {
    expect(objs.length).toBeGreaterThan(15);
    const problems: string[] = [];
    for (const o of objs) {
      try {
        validate(o);
      } catch (e) {
        problems.push(`${o.kind}/${o.metadata.name}: ${(e as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    // one namespace for everything but the Namespace itself
    const ns = objs.find((o) => o.kind === 'Namespace')!.metadata.name;
    expect(objs.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== ns)).toEqual([]);
  });

  it('runs every service, each with probes on real routes, requests and limits, an HPA and a PDB', () => {
    const apps = workloads(objs).map(appOf);
    for (const s of OUR_SERVICES) expect(apps).toContain(s);
    for (const w of workloads(objs)) {
      const labels = w.spec!.template!.metadata.labels;
      for (const c of w.spec!.template!.spec.containers) {
        const where = `${w.metadata.name}/${c.name}`;
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          expect({ where, probe: !!probe }).toEqual({ where, probe: true });
        }
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter((p): p is Probe => !!p)) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (typeof port === 'string') expect({ where, port: c.ports?.some((p) => p.name === port) }).toEqual({ where, port: true });
          if (!probe.httpGet || !OUR_SERVICES.includes(appOf(w))) continue;
          const path = probe.httpGet.path;
          // a probe carries no Secret (httpHeaders are literal): a guarded route would answer it 401
          expect({ where, path, answers401: answers401(appOf(w), path) }).toEqual({ where, path, answers401: false });
          expect({ where, path, open: OPEN_ROUTES[appOf(w)].includes(path) }).toEqual({ where, path, open: true });
          expect({ where, authHeader: (probe.httpGet.httpHeaders ?? []).some((h) => /authorization/i.test(h.name)) }).toEqual({ where, authHeader: false });
        }
        // readiness follows the service's own health check
        if (OUR_SERVICES.includes(appOf(w))) expect(c.readinessProbe!.httpGet?.path).toBe('/health');
        for (const kind of ['requests', 'limits'] as const) {
          expect({ where, kind, cpu: !!c.resources?.[kind]?.cpu, memory: !!c.resources?.[kind]?.memory }).toEqual({ where, kind, cpu: true, memory: true });
        }
      }
      if (!OUR_SERVICES.includes(appOf(w))) continue;
      const hpa = objs.find((o) => o.kind === 'HorizontalPodAutoscaler' && (o.spec!.scaleTargetRef as { name: string }).name === w.metadata.name);
      expect({ deployment: w.metadata.name, hpa: !!hpa }).toEqual({ deployment: w.metadata.name, hpa: true });
      const pdb = objs.find(
        (o) => o.kind === 'PodDisruptionBudget' && matches((o.spec!.selector as { matchLabels: Record<string, string> }).matchLabels, labels),
      );
      expect({ deployment: w.metadata.name, pdb: !!pdb }).toEqual({ deployment: w.metadata.name, pdb: true });
    }
  });

  it('gives every service longer to stop than its SIGTERM handling takes, after the preStop pause', () => {
    for (const w of workloads(objs).filter((o) => OUR_SERVICES.includes(appOf(o)))) {
      const spec = w.spec!.template!.spec;
      const preStop = spec.containers[0].lifecycle?.preStop?.exec?.command;
      const pause = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
      expect({ name: w.metadata.name, enough: (spec.terminationGracePeriodSeconds ?? 30) > pause + SHUTDOWN_TIMEOUT_SECONDS }).toEqual({
        name: w.metadata.name,
        enough: true,
      });
    }
  });

  it('references Secrets and never inlines one; credentials and keys only come from Secrets', () => {
    expect(objs.filter((o) => o.kind === 'Secret')).toEqual([]);
    const docs = readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8');
    for (const w of workloads(objs)) {
      for (const c of w.spec!.template!.spec.containers) {
        for (const e of c.env ?? []) {
          if (/PASSWORD|PRIVATE_KEY|PUBLIC_KEY|SECRET|TOKEN|REDIS_URL/.test(e.name)) {
            expect({ var: e.name, fromSecret: !!e.valueFrom?.secretKeyRef }).toEqual({ var: e.name, fromSecret: true });
          }
          // every Secret a pod needs is one docs/deployment.md tells the operator to create
          if (e.valueFrom?.secretKeyRef) expect(docs).toContain(e.valueFrom.secretKeyRef.name);
        }
      }
    }
  });

  it('sets only variables the code reads (or that compose one it reads), from ConfigMap keys that exist', () => {
    const configMaps = new Map(objs.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
    const problems: string[] = [];
    for (const w of workloads(objs).filter((o) => OUR_SERVICES.includes(appOf(o)))) {
      const keys = CONFIG_KEYS[appOf(w)];
      for (const c of w.spec!.template!.spec.containers) {
        const env = c.env ?? [];
        const defined = new Set<string>();
        const referenced = new Set<string>();
        for (const e of env) {
          for (const m of (e.value ?? '').matchAll(/\$\(([A-Z0-9_]+)\)/g)) {
            // Kubernetes expands $(NAME) only from variables defined earlier in the list
            if (!defined.has(m[1])) problems.push(`${w.metadata.name}: ${e.name} uses $(${m[1]}) before it is set`);
            referenced.add(m[1]);
          }
          defined.add(e.name);
          const ref = e.valueFrom?.configMapKeyRef;
          if (ref && !(ref.key in (configMaps.get(ref.name) ?? {}))) problems.push(`${w.metadata.name}: ${e.name} reads missing ${ref.name}/${ref.key}`);
        }
        for (const e of env) {
          if (!keys.has(e.name) && !referenced.has(e.name)) problems.push(`${w.metadata.name}: ${e.name} is read by no config of ${appOf(w)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('runs every service with NODE_ENV=production and every secret its code then requires, each from a Secret', () => {
    const configMaps = new Map(objs.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
    const valueOf = (e: EnvVar | undefined): string | undefined => {
      const ref = e?.valueFrom?.configMapKeyRef;
      return ref ? configMaps.get(ref.name)?.[ref.key] : e?.value;
    };
    const problems: string[] = [];
    for (const w of workloads(objs).filter((o) => OUR_SERVICES.includes(appOf(o)))) {
      const env = w.spec!.template!.spec.containers[0].env ?? [];
      const byName = new Map(env.map((e) => [e.name, e]));
      if (valueOf(byName.get('NODE_ENV')) !== 'production') problems.push(`${w.metadata.name}: NODE_ENV is not production`);
      const required = REQUIRED_SECRETS[appOf(w)]({ DISCOVERY_URL: valueOf(byName.get('DISCOVERY_URL')) });
      // the gateway's status routes: without a STATUS_TOKEN only loopback could read them (no scraping)
      if (appOf(w) === 'gateway') required.push('STATUS_TOKEN');
      for (const name of required) {
        if (!byName.get(name)?.valueFrom?.secretKeyRef) problems.push(`${w.metadata.name}: ${name} (required in production) is not set from a Secret`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives an in-cluster Redis a password from a Secret, and the services a REDIS_URL from the same Secret', () => {
    const redis = workloads(objs).filter((o) => appOf(o) === 'redis');
    for (const w of redis) {
      const c = w.spec!.template!.spec.containers[0];
      const args = c.args ?? [];
      const pass = args[args.indexOf('--requirepass') + 1];
      expect({ requirepass: args.includes('--requirepass') }).toEqual({ requirepass: true });
      const variable = /^\$\(([A-Z0-9_]+)\)$/.exec(pass ?? '')?.[1];
      const ref = c.env?.find((e) => e.name === variable)?.valueFrom?.secretKeyRef;
      expect({ password: pass, fromSecret: !!ref }).toEqual({ password: pass, fromSecret: true });
      for (const s of workloads(objs).filter((o) => OUR_SERVICES.includes(appOf(o)))) {
        const url = s.spec!.template!.spec.containers[0].env?.find((e) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef;
        expect({ service: appOf(s), secret: url?.name }).toEqual({ service: appOf(s), secret: ref!.name });
      }
    }
  });

  it('lets only the gateway take traffic from outside; discovery, Redis and subgraphs only from our services', () => {
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const denyAll = policies.find((p) => Object.keys((p.spec!.podSelector as object) ?? {}).length === 0);
    expect(denyAll?.spec!.ingress).toBeUndefined();
    expect(denyAll?.spec!.policyTypes).toEqual(['Ingress']);
    const services = objs.filter((o) => o.kind === 'Service');
    for (const w of workloads(objs)) {
      const labels = w.spec!.template!.metadata.labels;
      const rules = policies
        .filter((p) => matches(((p.spec!.podSelector as { matchLabels?: Record<string, string> }).matchLabels ?? {}), labels))
        .filter((p) => Object.keys(p.spec!.podSelector as object).length > 0)
        .flatMap((p) => (p.spec!.ingress as Rule[] | undefined) ?? []);
      // a workload no Service points at (the media worker) is called by nobody: no ingress rule at all
      const served = services.some((svc) => matches((svc.spec!.selector as Record<string, string>) ?? {}, labels));
      expect({ app: appOf(w), rules: rules.length > 0 }).toEqual({ app: appOf(w), rules: served });
      const open = rules.filter((r) => !r.from);
      if (appOf(w) === 'gateway') {
        expect(open.length).toBe(1);
        continue;
      }
      expect({ app: appOf(w), open: open.length }).toEqual({ app: appOf(w), open: 0 });
      // peers are pods of this namespace picked by their app label, never an address range or a namespace
      for (const peer of rules.flatMap((r) => r.from!)) {
        expect(Object.keys(peer)).toEqual(['podSelector']);
        const sel = peer.podSelector as { matchLabels?: Record<string, string>; matchExpressions?: Array<{ values: string[] }> };
        const apps = [...Object.values(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).flatMap((m) => m.values)];
        for (const a of apps) expect(OUR_SERVICES).toContain(a);
      }
    }
  });
  it('lets media take traffic only from the gateway, and the worker none, reaching out only to what it needs', () => {
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const selecting = (app: string) => policies.filter((p) => (p.spec!.podSelector as { matchLabels?: Record<string, string> }).matchLabels?.['app.kubernetes.io/name'] === app);
    const mediaPeers = selecting('media')
      .flatMap((p) => (p.spec!.ingress as Rule[] | undefined) ?? [])
      .flatMap((r) => r.from ?? [])
      .map((peer) => JSON.stringify(peer));
    expect(mediaPeers).toEqual([JSON.stringify({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway' } } })]);

    const worker = selecting('media-worker');
    expect(worker).toHaveLength(1);
    expect([...(worker[0].spec!.policyTypes as string[])].sort()).toEqual(['Egress', 'Ingress']);
    expect(worker[0].spec!.ingress).toBeUndefined();
    const egress = (worker[0].spec!.egress as EgressRule[]) ?? [];
    const reaches = (app: string, port: number) =>
      egress.some((r) => (r.ports ?? []).some((p) => p.port === port) && (!r.to || r.to.some((peer) => JSON.stringify(peer).includes(`"${app}"`))));
    for (const [app, port] of [['redis', 6379], ['discovery', 8500], ['courses', 50052], ['oracle', 1521]] as const) {
      expect({ app, port, reachable: reaches(app, port) }).toEqual({ app, port, reachable: true });
    }
    // not the gateway, users or the web: only DNS, Redis, Oracle (ports) and our pods (by label)
    expect(egress.filter((r) => !r.to).flatMap((r) => (r.ports ?? []).map((p) => p.port)).sort((a, b) => a - b)).toEqual([53, 53, 1521, 6379, 6380]);
    for (const peer of egress.flatMap((r) => r.to ?? [])) expect(Object.keys(peer)).toEqual(['podSelector']);
    // and the services it calls admit it
    for (const callee of ['discovery', 'courses', 'redis']) {
      const admitted = selecting(callee).flatMap((p) => (p.spec!.ingress as Rule[] | undefined) ?? []).some((r) => JSON.stringify(r.from ?? []).includes('"media-worker"'));
      if (workloads(objs).some((w) => appOf(w) === callee)) expect({ callee, admitted }).toEqual({ callee, admitted: true });
    }
  });

  it('shares one ReadWriteMany volume between the media replicas and the workers, holding both media folders', () => {
    const configMaps = new Map(objs.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
    const claims = objs.filter((o) => o.kind === 'PersistentVolumeClaim');
    for (const app of ['media', 'media-worker']) {
      const w = workloads(objs).find((o) => appOf(o) === app)!;
      const spec = w.spec!.template!.spec as unknown as {
        containers: Array<Container & { volumeMounts: Array<{ name: string; mountPath: string }> }>;
        volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
      };
      const volume = spec.volumes.find((v) => v.persistentVolumeClaim)!;
      const claim = claims.find((c) => c.metadata.name === volume.persistentVolumeClaim!.claimName);
      expect((claim!.spec!.accessModes as string[])).toEqual(['ReadWriteMany']);
      const mount = spec.containers[0].volumeMounts.find((m) => m.name === volume.name)!.mountPath;
      const valueOf = (name: string) => {
        const e = spec.containers[0].env!.find((v) => v.name === name)!;
        const ref = e.valueFrom?.configMapKeyRef;
        return ref ? configMaps.get(ref.name)![ref.key] : e.value!;
      };
      for (const dir of ['MEDIA_DIR', 'MEDIA_UPLOAD_DIR']) expect({ app, dir, onVolume: valueOf(dir).startsWith(`${mount}/`) }).toEqual({ app, dir, onVolume: true });
      expect(valueOf('MEDIA_UPLOAD_DIR').startsWith(`${valueOf('MEDIA_DIR')}/`)).toBe(false);
    }
    // the worker signs nothing and verifies no token: it is not given the keys
    const workerEnv = workloads(objs).find((o) => appOf(o) === 'media-worker')!.spec!.template!.spec.containers[0].env!.map((e) => e.name);
    expect(workerEnv).not.toContain('MEDIA_SIGNING_SECRET');
    expect(workerEnv).not.toContain('JWT_PUBLIC_KEY');
  });
});
