/**
 * The Node authorizer (upstream's plugin/pkg/auth/authorizer/node, with 1.32's
 * AuthorizeNodeWithSelectors): a kubelet (`system:node:<name>` in `system:nodes`) may read its
 * own Node and the pods bound to it, its own Lease, and only those secrets, configmaps,
 * persistent volume claims, persistent volumes and service-account tokens that pods bound to it
 * reference. Everything else is decided by the static node rules; writes to its Node and pods
 * are narrowed further by NodeRestriction admission.
 */
import type { InformerFactory } from '../client/informer-factory.js';
import type { SharedInformer } from '../client/informer.js';
import { PERSISTENT_VOLUME_CLAIMS, PODS } from '../client/resource-types.js';
import { parseFieldSelector } from '../api/selectors.js';
import type { Obj } from '../registry/strategy.js';
import { NO_OPINION, type AuthorizationAttributes, type Authorizer, type Decision, type RuleResolver, type UserRules } from './authorization.js';
import { NODE_RULES } from './rbac/bootstrap-policy.js';
import { compileRule, rulesAllow } from './rbac/rules.js';
import type { UserInfo } from './authenticate.js';

const NODES_GROUP = 'system:nodes';
const NODE_USER_PREFIX = 'system:node:';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const POD_NODE_INDEX = 'spec.nodeName';

const ALLOW: Decision = Object.freeze({ allowed: true });
const noOpinion = (reason: string): Decision => ({ allowed: false, noOpinion: true, reason });

/** The node a user is the kubelet of (upstream's NodeIdentity): undefined when not a node, "" when unidentifiable. */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  return user.name.slice(NODE_USER_PREFIX.length);
}

type Reference = 'secret' | 'configmap' | 'pvc' | 'serviceaccount';

/** Names a pod refers to, by kind (containers, init and ephemeral containers, volumes, image pull secrets). */
export function podReferences(pod: Obj, kind: Reference): Set<string> {
  const names = new Set<string>();
  const spec = pod.spec ?? {};
  const add = (name: unknown) => {
    if (typeof name === 'string' && name !== '') names.add(name);
  };
  if (kind === 'serviceaccount') {
    add(spec.serviceAccountName || 'default');
    return names;
  }
  if (kind === 'secret') for (const ref of spec.imagePullSecrets ?? []) add(ref?.name);
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  for (const container of containers) {
    for (const env of container?.env ?? []) {
      if (kind === 'secret') add(env?.valueFrom?.secretKeyRef?.name);
      if (kind === 'configmap') add(env?.valueFrom?.configMapKeyRef?.name);
    }
    for (const from of container?.envFrom ?? []) {
      if (kind === 'secret') add(from?.secretRef?.name);
      if (kind === 'configmap') add(from?.configMapRef?.name);
    }
  }
  for (const volume of spec.volumes ?? []) {
    if (kind === 'secret') add(volume?.secret?.secretName);
    if (kind === 'configmap') add(volume?.configMap?.name);
    if (kind === 'pvc') {
      add(volume?.persistentVolumeClaim?.claimName);
      // A generic ephemeral volume's claim is named <pod>-<volume>.
      if (volume?.ephemeral && volume.name) add(`${pod.metadata.name}-${volume.name}`);
    }
    for (const source of volume?.projected?.sources ?? []) {
      if (kind === 'secret') add(source?.secret?.name);
      if (kind === 'configmap') add(source?.configMap?.name);
    }
    if (kind === 'secret') {
      for (const key of ['cephfs', 'rbd', 'flexVolume', 'iscsi', 'scaleIO', 'storageos']) add(volume?.[key]?.secretRef?.name);
      add(volume?.azureFile?.secretName);
      add(volume?.csi?.nodePublishSecretRef?.name);
    }
  }
  return names;
}

export class NodeAuthorizer implements Authorizer, RuleResolver {
  private readonly pods: SharedInformer;
  private readonly claims: SharedInformer;
  private readonly rules = NODE_RULES.map(compileRule);

  constructor(informers: InformerFactory) {
    this.pods = informers.informer(PODS);
    this.claims = informers.informer(PERSISTENT_VOLUME_CLAIMS);
    this.pods.addIndexer(POD_NODE_INDEX, (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []));
  }

  async start(): Promise<void> {
    await Promise.all([this.pods.start(), this.claims.start()]);
  }

  authorize(attributes: AuthorizationAttributes): Decision {
    const nodeName = nodeIdentity(attributes.user);
    if (nodeName === undefined) return NO_OPINION;
    if (nodeName === '') return noOpinion(`unknown node for user ${JSON.stringify(attributes.user.name)}`);
    if (attributes.isResourceRequest) {
      const group = attributes.group ?? '';
      const resource = attributes.resource;
      if (group === '') {
        switch (resource) {
          case 'secrets':
            return this.readNamespaced(nodeName, attributes, (pod, name) => podReferences(pod, 'secret').has(name));
          case 'configmaps':
            return this.readNamespaced(nodeName, attributes, (pod, name) => podReferences(pod, 'configmap').has(name));
          case 'persistentvolumeclaims':
            if (attributes.subresource === 'status') {
              if (attributes.verb !== 'update' && attributes.verb !== 'patch') return noOpinion('can only get/update/patch this type');
              return this.related(nodeName, attributes, (pod, name) => podReferences(pod, 'pvc').has(name));
            }
            return this.getOnly(nodeName, attributes, (pod, name) => podReferences(pod, 'pvc').has(name));
          case 'persistentvolumes':
            return this.getOnly(nodeName, attributes, (pod, name) => this.podVolumes(pod).has(name), true);
          case 'serviceaccounts':
            return this.createToken(nodeName, attributes);
          case 'nodes':
            return this.node(nodeName, attributes);
          case 'pods':
            return this.pod(nodeName, attributes);
        }
      } else if (group === 'coordination.k8s.io' && resource === 'leases') {
        return this.lease(nodeName, attributes);
      }
    }
    return rulesAllow(attributes, this.rules) ? ALLOW : NO_OPINION;
  }

  /** Nodes' permissions depend on the graph: upstream says it cannot list them. */
  rulesFor(user: UserInfo): UserRules {
    if (nodeIdentity(user) === undefined) return { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
    return { resourceRules: [], nonResourceRules: [], incomplete: true, errors: ['node authorizer does not support user rule resolution'] };
  }

  private node(nodeName: string, attributes: AuthorizationAttributes): Decision {
    const { verb, subresource, name } = attributes;
    if (!subresource) {
      if (verb === 'create' || verb === 'update' || verb === 'patch') return ALLOW;
      if (verb === 'get' || verb === 'list' || verb === 'watch') {
        if (name === nodeName) return ALLOW;
        if (!name) return noOpinion(`node '${nodeName}' cannot read all nodes, only its own Node object`);
        return noOpinion(`node '${nodeName}' cannot read '${name}', only its own Node object`);
      }
    } else if (subresource === 'status' && (verb === 'update' || verb === 'patch')) return ALLOW;
    return NO_OPINION;
  }

  private pod(nodeName: string, attributes: AuthorizationAttributes): Decision {
    const { verb, subresource } = attributes;
    if (!subresource) {
      if (verb === 'get') return this.getOnly(nodeName, attributes, () => true);
      if (verb === 'list' || verb === 'watch') {
        if (selectsNode(attributes.fieldSelector, nodeName)) return ALLOW;
        if (attributes.name) return this.related(nodeName, attributes, () => true);
        return noOpinion('can only list/watch pods with spec.nodeName field selector');
      }
      if (verb === 'create' || verb === 'delete') return ALLOW;
    } else if (subresource === 'status' && (verb === 'update' || verb === 'patch')) return ALLOW;
    else if (subresource === 'eviction' && verb === 'create') return ALLOW;
    return NO_OPINION;
  }

  private lease(nodeName: string, attributes: AuthorizationAttributes): Decision {
    const verb = attributes.verb;
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
    if (attributes.namespace !== NODE_LEASE_NAMESPACE) return noOpinion(`can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`);
    // On create the name is not known to authorization; NodeRestriction admission checks it.
    if (verb !== 'create' && attributes.name !== nodeName) return noOpinion('can only access node lease with the same name as the requesting node');
    return ALLOW;
  }

  private createToken(nodeName: string, attributes: AuthorizationAttributes): Decision {
    if (attributes.verb !== 'create' || !attributes.name) return noOpinion('can only create tokens for individual service accounts');
    if (attributes.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    return this.related(nodeName, attributes, (pod, name) => podReferences(pod, 'serviceaccount').has(name));
  }

  private readNamespaced(nodeName: string, attributes: AuthorizationAttributes, references: (pod: Obj, name: string) => boolean): Decision {
    if (!['get', 'list', 'watch'].includes(attributes.verb)) return noOpinion('can only read resources of this type');
    if (attributes.subresource) return noOpinion('cannot read subresource');
    if (!attributes.namespace) return noOpinion('can only read namespaced object of this type');
    return this.related(nodeName, attributes, references);
  }

  private getOnly(nodeName: string, attributes: AuthorizationAttributes, references: (pod: Obj, name: string) => boolean, clusterScoped = false): Decision {
    if (attributes.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (attributes.subresource) return noOpinion('cannot get subresource');
    return this.related(nodeName, attributes, references, clusterScoped);
  }

  /** Whether a pod bound to the node (in the object's namespace, unless cluster-scoped) relates to the named object. */
  private related(nodeName: string, attributes: AuthorizationAttributes, references: (pod: Obj, name: string) => boolean, clusterScoped = false): Decision {
    const name = attributes.name;
    if (!name) return noOpinion('No Object name found');
    const isPod = attributes.resource === 'pods';
    for (const pod of this.pods.lister.byIndex(POD_NODE_INDEX, nodeName)) {
      if (!clusterScoped && pod.metadata.namespace !== attributes.namespace) continue;
      if (isPod ? pod.metadata.name === name : references(pod, name)) return ALLOW;
    }
    return noOpinion(`no relationship found between node '${nodeName}' and this object`);
  }

  /** Persistent volumes behind a pod's claims. */
  private podVolumes(pod: Obj): Set<string> {
    const volumes = new Set<string>();
    for (const claim of podReferences(pod, 'pvc')) {
      const volumeName = this.claims.lister.get(pod.metadata.namespace, claim)?.spec?.volumeName;
      if (typeof volumeName === 'string' && volumeName) volumes.add(volumeName);
    }
    return volumes;
  }
}

function selectsNode(fieldSelector: string | undefined, nodeName: string): boolean {
  if (!fieldSelector) return false;
  try {
    return parseFieldSelector(fieldSelector).some((r) => r.field === 'spec.nodeName' && r.op === '=' && r.value === nodeName);
  } catch {
    return false;
  }
}
