/**
 * deploy/kubernetes/: every manifest parses, validates against the
 * Kubernetes API schema (kubernetes-models), is listed by a kustomization,
 * and agrees with the services: every environment variable it sets (env and
 * ConfigMap keys) is one the service's config reads, with a value it
 * accepts; ports, probes, Secrets and selectors line up; the grace period
 * outlasts the drain.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { contentStoreConfigSpec } from '@griot/content-store';
import { registryConfigSpec } from '@griot/registry';
import { readConfig } from '@griot/server-kit';
import { REPO_ROOT } from '@griot/test/support/process';

const ROOT = join(REPO_ROOT, 'deploy', 'kubernetes');
/** The shutdown drain of both services (their stop()'s default grace), in seconds. */
const DRAIN_SECONDS = 10;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = Record<string, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

const SERVICES = {
  registry: { spec: registryConfigSpec, prefix: 'REGISTRY', listen: 'REGISTRY_LISTEN', admin: 'REGISTRY_ADMIN_LISTEN' },
  'content-store': { spec: contentStoreConfigSpec, prefix: 'CONTENT', listen: 'CONTENT_LISTEN', admin: 'CONTENT_ADMIN_LISTEN' },
} as const;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith('.yaml') ? [path] : [];
  });
}

const files = yamlFiles(ROOT);
const documents: { file: string; doc: Manifest }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${relative(ROOT, file)}: ${d.errors.map((e) => e.message).join('; ')}`);
    return { file, doc: d.toJS() as Manifest };
  }),
);
const objects = documents.filter(({ doc }) => doc.kind !== 'Kustomization');
const ofKind = (kind: string) => objects.filter(({ doc }) => doc.kind === kind).map(({ doc }) => doc);
const named = (kind: string, name: string) => ofKind(kind).find((doc) => doc.metadata.name === name);
const workloads = objects.filter(({ doc }) => doc.kind === 'Deployment' || doc.kind === 'Job').map(({ doc }) => doc);
const serviceOf = (doc: Manifest) => doc.metadata.labels['app.kubernetes.io/component'] as keyof typeof SERVICES;
const podSpec = (doc: Manifest) => doc.spec.template.spec as Manifest;

/** The variables a container sets, with their values where known (ConfigMap values; env values; Secrets: a placeholder). */
function containerEnv(container: Manifest): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  for (const from of container.envFrom ?? []) {
    const map = named('ConfigMap', from.configMapRef.name);
    expect(map).toBeDefined();
    for (const [key, value] of Object.entries(map!.data as Record<string, string>)) env.set(key, value);
  }
  for (const e of container.env ?? []) env.set(e.name, e.value);
  return env;
}

describe('the Kubernetes manifests', () => {
  it('are there for both services', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(ofKind('Deployment').map((d) => d.metadata.name).sort()).toEqual(['griot-content-store', 'griot-registry']);
    expect(ofKind('Job').map((d) => d.metadata.name).sort()).toEqual(['griot-content-store-migrate', 'griot-registry-migrate']);
  });

  it.each(objects.map(({ file, doc }) => [`${relative(ROOT, file)} ${doc.kind}/${doc.metadata?.name}`, doc]))('%s validates against the Kubernetes API schema', (_name, doc) => {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    expect(Model).toBeDefined();
    expect(() => new Model!(doc).validate()).not.toThrow();
  });

  it('are each listed by a kustomization (the example Secrets excepted), which lists only files that exist', () => {
    const listed = new Set<string>();
    for (const { file, doc } of documents.filter(({ doc }) => doc.kind === 'Kustomization')) {
      for (const resource of doc.resources as string[]) {
        const path = join(dirname(file), resource);
        expect(files).toContain(path);
        listed.add(path);
      }
      expect((doc.images as { name: string }[]).map((i) => i.name).sort()).toEqual(['griot-content-store', 'griot-registry']);
    }
    const unlisted = files.filter((f) => !listed.has(f) && !f.endsWith('kustomization.yaml')).map((f) => relative(ROOT, f));
    expect(unlisted).toEqual(['secrets.example.yaml']);
  });

  it.each(workloads.map((doc) => [doc.metadata.name, doc]))('%s sets only variables its service reads, with values it accepts', (_name, doc) => {
    const service = SERVICES[serviceOf(doc)];
    const accepted = Object.keys(service.spec);
    for (const container of podSpec(doc).containers) {
      const env = containerEnv(container);
      expect([...env.keys()].filter((name) => !accepted.includes(name))).toEqual([]);
      // Parsed the way the service parses them (files and Secrets stand in: they exist only in the cluster).
      const values: Record<string, string | undefined> = Object.fromEntries(env);
      for (const name of env.keys()) {
        if (values[name] === undefined) values[name] = name.endsWith('_DATABASE_URL') ? 'postgres://griot@postgres:5432/griot' : undefined;
        if (name.endsWith('_FILE') || /_TLS_/.test(name)) values[name] = undefined;
      }
      expect(() => readConfig(service.spec, values)).not.toThrow();
      // The database is PostgreSQL from a Secret, never the embedded one.
      const url = (container.env as Manifest[]).find((e) => e.name === `${service.prefix}_DATABASE_URL`);
      expect(url?.valueFrom?.secretKeyRef).toMatchObject({ key: 'database-url' });
    }
  });

  it.each(ofKind('Deployment').map((doc) => [doc.metadata.name, doc]))('%s runs replicas that probe, drain, and are reached as configured', (name, doc) => {
    const service = SERVICES[serviceOf(doc)];
    const pod = podSpec(doc);
    const [container] = pod.containers as Manifest[];
    const env = containerEnv(container!);
    expect(doc.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(container!.command).toEqual(['node', 'dist/main.js']);
    expect(container!.image).toBe(name);
    // Ports: the listen variables' ports are the container's named ports, which the Service and probes use.
    const port = (portName: string) => (container!.ports as Manifest[]).find((p) => p.name === portName)?.containerPort;
    expect(env.get(service.listen)).toBe(`0.0.0.0:${port('grpc')}`);
    expect(env.get(service.admin)).toBe(`0.0.0.0:${port('admin')}`);
    expect(container!.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(container!.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    // Graceful termination: preStop, then the drain, within the grace period.
    const preStop = Number(container!.lifecycle.preStop.exec.command[1]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + DRAIN_SECONDS);
    // Resources from measured RSS; non-root, read-only root filesystem, scratch on an emptyDir.
    expect(container!.resources.requests.memory).toMatch(/^\d+Mi$/);
    expect(container!.resources.limits.memory).toMatch(/^\d+Mi$/);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(env.get('GRIOT_DATA_DIR')?.startsWith('/tmp/')).toBe(true);
    expect((container!.volumeMounts as Manifest[]).find((m) => m.mountPath === '/tmp')).toBeDefined();
    // The Service and the PodDisruptionBudget select these pods; the Service's ports exist.
    const labels = doc.spec.template.metadata.labels;
    const svc = named('Service', name);
    expect(svc).toBeDefined();
    expect(labels).toMatchObject(svc!.spec.selector);
    expect((svc!.spec.ports as Manifest[]).map((p) => port(p.targetPort))).toEqual([port('grpc'), port('admin')]);
    const pdb = named('PodDisruptionBudget', name);
    expect(labels).toMatchObject(pdb!.spec.selector.matchLabels);
    expect(named('ServiceAccount', pod.serviceAccountName)).toBeDefined();
  });

  it('points the registry at the content store Service, and the content store at GCS', () => {
    const registryEnv = containerEnv(podSpec(named('Deployment', 'griot-registry')!).containers[0]);
    const contentService = named('Service', 'griot-content-store')!;
    const grpcPort = (contentService.spec.ports as Manifest[]).find((p) => p.name === 'grpc')!.port;
    expect(registryEnv.get('CONTENT_STORE_ADDR')).toBe(`griot-content-store:${grpcPort}`);
    const contentEnv = containerEnv(podSpec(named('Deployment', 'griot-content-store')!).containers[0]);
    expect(contentEnv.get('CONTENT_DEFAULT_STORAGE')).toBe('griot.gcs@v1');
    expect(contentEnv.get('CONTENT_GCS_BUCKET')).toBeTruthy();
    expect(registryEnv.get('REGISTRY_MAX_CONNECTION_AGE')).toBe('5m');
    expect(contentEnv.get('CONTENT_MAX_CONNECTION_AGE')).toBe('5m');
  });

  it('reads only the Secrets and keys that secrets.example.yaml describes (or optional ones)', () => {
    for (const doc of workloads) {
      const pod = podSpec(doc);
      for (const container of pod.containers as Manifest[]) {
        for (const e of (container.env ?? []) as Manifest[]) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref || ref.optional) continue;
          expect(Object.keys(named('Secret', ref.name)?.stringData ?? {})).toContain(ref.key);
        }
      }
      for (const volume of (pod.volumes ?? []) as Manifest[]) {
        if (volume.secret && !volume.secret.optional) expect(named('Secret', volume.secret.secretName)).toBeDefined();
      }
    }
    const keyFile = containerEnv(podSpec(named('Deployment', 'griot-registry')!).containers[0]).get('REGISTRY_KEY_FILE')!;
    expect(keyFile.endsWith(`/${Object.keys(named('Secret', 'griot-registry-key')!.stringData)[0]}`)).toBe(true);
  });
});
