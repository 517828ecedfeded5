/**
 * VolumeBinding (upstream's plugins/volumebinding, basics). PreFilter: every PVC the pod names
 * must exist and not be going away; an unbound claim whose class binds Immediately makes the pod
 * unschedulable until the PV controller binds it; claims of WaitForFirstConsumer classes are left
 * for the node choice. Filter: a bound claim's PV must exist and its node affinity admit the node;
 * each delayed claim needs, on the node, an available matching PV or a class that can provision
 * there. Reserve assumes the chosen PVs (so the next pod does not take them); PreBind writes the
 * decision — the PV's claimRef for a static match, `volume.kubernetes.io/selected-node` on the
 * claim for provisioning — and waits (bindTimeoutSeconds) until the PV controller has completed
 * every binding. Pods without claims skip the plugin entirely.
 */
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { InformerFactory } from '../../client/informer-factory.js';
import { PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, STORAGE_CLASSES } from '../../client/resource-types.js';
import { ApiError } from '../../api/status.js';
import { ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, canProvisionOn, claimClass, claimRefOf, findMatchingVolume, isClaimFullyBound, isDelayedBinding, volumeClass, volumeNodeAffinityMatches } from '../../api/volume-binding.js';
import type { NodeInfo } from '../node-info.js';
import { status, type Plugin, type Pod, type Result } from '../types.js';

export const NAME = 'VolumeBinding';
export const REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
const STATE_KEY = 'PreFilter' + NAME;

export interface VolumeBindingArgs {
  /** How long PreBind waits for the PV controller to complete the bindings (upstream's default 600). */
  bindTimeoutSeconds?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

/** What the pod's volumes need on one node: PVs to claim, claims to provision. */
interface NodeDecision {
  bindings: Array<{ claim: Fields; volume: Fields }>;
  provisions: Fields[];
}

class BindingState {
  /** Claims already bound (spec.volumeName). */
  readonly bound: Fields[] = [];
  /** Unbound claims of WaitForFirstConsumer classes, with their class. */
  readonly delayed: Array<{ claim: Fields; storageClass: Fields | undefined }> = [];
  /** The PVs of the delayed claims' classes, listed once per cycle. */
  candidates: Fields[] = [];
  /** Per node that passed Filter. */
  readonly decisions = new Map<string, NodeDecision>();
}

/** The claim names the pod's volumes use (generic ephemeral volumes: "<pod>-<volume>"). */
export function podClaims(pod: Pod): Array<{ name: string; ephemeral: boolean }> {
  const claims: Array<{ name: string; ephemeral: boolean }> = [];
  for (const volume of (pod.spec?.volumes ?? []) as Fields[]) {
    if (volume.persistentVolumeClaim?.claimName) claims.push({ name: volume.persistentVolumeClaim.claimName, ephemeral: false });
    else if (volume.ephemeral) claims.push({ name: `${pod.metadata.name}-${volume.name}`, ephemeral: true });
  }
  return claims;
}

function keyOf(claim: Fields): string {
  return `${claim.metadata.namespace}/${claim.metadata.name}`;
}

export function volumeBinding(args: VolumeBindingArgs, client: ApiClient, informers: InformerFactory): Plugin {
  const timeoutMs = (args.bindTimeoutSeconds ?? 600) * 1000;
  const claims = informers.informer(PERSISTENT_VOLUME_CLAIMS);
  const volumes = informers.informer(PERSISTENT_VOLUMES).lister;
  const classes = informers.informer(STORAGE_CLASSES).lister;
  /** PV name → the claim key it is assumed for, between Reserve and the end of PreBind. */
  const assumedVolumes = new Map<string, string>();
  /** Binding cycles waiting for their claims to be bound; re-checked on every claim change. */
  const waiters = new Set<() => void>();
  claims.addEventHandler({ onAdd: () => wake(), onUpdate: () => wake(), onDelete: () => wake() });

  function wake(): void {
    for (const waiter of [...waiters]) waiter();
  }

  function decide(s: BindingState, node: Fields): { decision?: NodeDecision; reasons: string[] } {
    const reasons: string[] = [];
    for (const claim of s.bound) {
      const volume = volumes.get(undefined, claim.spec.volumeName);
      if (!volume) {
        reasons.push(REASON_PV_NOT_EXIST);
        break;
      }
      if (!volumeNodeAffinityMatches(volume, node)) {
        reasons.push(REASON_NODE_CONFLICT);
        break;
      }
    }
    if (s.delayed.length === 0) return { reasons, decision: reasons.length ? undefined : { bindings: [], provisions: [] } };
    const decision: NodeDecision = { bindings: [], provisions: [] };
    const taken = new Set(assumedVolumes.keys());
    let unsatisfied = false;
    for (const { claim, storageClass } of s.delayed) {
      const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE];
      if (selected !== undefined && selected !== node.metadata.name) {
        // Provisioning for another node is under way.
        unsatisfied = true;
        continue;
      }
      const volume = findMatchingVolume(claim, s.candidates, node, taken);
      if (volume) {
        taken.add(volume.metadata.name);
        decision.bindings.push({ claim, volume });
      } else if (canProvisionOn(storageClass, node)) decision.provisions.push(claim);
      else unsatisfied = true;
    }
    if (unsatisfied) reasons.push(REASON_BIND_CONFLICT);
    return { reasons, decision: reasons.length ? undefined : decision };
  }

  /** Resolves once every claim of the decision is bound by the PV controller; rejects on timeout. */
  function waitForBindings(pod: Pod, decision: NodeDecision): Promise<Result> {
    const namespace = pod.metadata.namespace!;
    const names = [...decision.bindings.map((b) => b.claim.metadata.name as string), ...decision.provisions.map((c) => c.metadata.name as string)];
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (result: Result) => {
        waiters.delete(check);
        if (timer) clearTimeout(timer);
        resolve(result);
      };
      const check = () => {
        for (const name of names) {
          const claim = claims.lister.get(namespace, name);
          if (!claim) return finish(status.error(`persistentvolumeclaim "${name}" not found`));
          if (decision.provisions.some((c) => c.metadata.name === name) && !claim.spec?.volumeName && claim.metadata.annotations?.[ANN_SELECTED_NODE] === undefined) {
            return finish(status.error(`provisioning failed for PVC "${name}"`));
          }
          if (!isClaimFullyBound(claim)) return;
        }
        finish(undefined);
      };
      waiters.add(check);
      timer = setTimeout(() => finish(status.error('binding volumes: context deadline exceeded')), timeoutMs);
      timer.unref?.();
      check();
    });
  }

  function release(decision: NodeDecision | undefined): void {
    for (const { volume } of decision?.bindings ?? []) assumedVolumes.delete(volume.metadata.name);
  }

  return {
    name: NAME,
    events: ['PersistentVolumeClaim/*', 'PersistentVolume/*', 'StorageClass/*', 'Node/Add', 'Node/UpdateNodeLabel', 'Node/UpdateNodeTaint'],
    preFilter(state, pod) {
      const names = podClaims(pod);
      if (names.length === 0) return status.skip();
      const s = new BindingState();
      const namespace = pod.metadata.namespace!;
      const delayedClasses = new Set<string>();
      for (const { name, ephemeral } of names) {
        const claim = claims.lister.get(namespace, name);
        if (!claim) return status.unresolvable(`persistentvolumeclaim "${name}" not found`);
        if (claim.metadata.deletionTimestamp) return status.unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
        if (ephemeral && !(claim.metadata.ownerReferences ?? []).some((ref: Fields) => ref.controller && ref.uid === pod.metadata.uid)) {
          return status.unresolvable(`PVC ${namespace}/${name} was not created for pod ${namespace}/${pod.metadata.name} (pod is not owner)`);
        }
        if (claim.spec?.volumeName) {
          s.bound.push(claim);
          continue;
        }
        const storageClass = classes.get(undefined, claimClass(claim));
        if (!isDelayedBinding(storageClass)) return status.unresolvable(REASON_UNBOUND_IMMEDIATE);
        s.delayed.push({ claim, storageClass });
        delayedClasses.add(claimClass(claim));
      }
      if (s.delayed.length > 0) s.candidates = volumes.list(undefined).filter((v) => delayedClasses.has(volumeClass(v)));
      state.write(STATE_KEY, s);
      return undefined;
    },
    filter(state, _pod, nodeInfo: NodeInfo) {
      const s = state.read<BindingState>(STATE_KEY);
      if (!s || !nodeInfo.node) return undefined;
      const { decision, reasons } = decide(s, nodeInfo.node);
      if (reasons.length > 0) return status.unresolvable(...reasons);
      s.decisions.set(nodeInfo.name, decision!);
      return undefined;
    },
    reserve(state, _pod, nodeName) {
      // The cycle is synchronous: nothing was assumed since Filter excluded the assumed PVs.
      const decision = state.read<BindingState>(STATE_KEY)?.decisions.get(nodeName);
      for (const { claim, volume } of decision?.bindings ?? []) assumedVolumes.set(volume.metadata.name, keyOf(claim));
      return undefined;
    },
    unreserve(state, _pod, nodeName) {
      release(state.read<BindingState>(STATE_KEY)?.decisions.get(nodeName));
    },
    async preBind(state, pod, nodeName) {
      const decision = state.read<BindingState>(STATE_KEY)?.decisions.get(nodeName);
      if (!decision || (decision.bindings.length === 0 && decision.provisions.length === 0)) return undefined;
      try {
        for (const { claim, volume } of decision.bindings) {
          await client.mutate(PERSISTENT_VOLUMES, undefined, volume.metadata.name, (latest: Obj) => {
            if (latest.spec?.claimRef && latest.spec.claimRef.uid !== claim.metadata.uid) throw new Error(`volume "${volume.metadata.name}" is already bound to another claim`);
            latest.spec.claimRef = claimRefOf(claim);
            latest.metadata.annotations = { ...(latest.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
            return latest;
          });
        }
        for (const claim of decision.provisions) {
          await client.mutate(PERSISTENT_VOLUME_CLAIMS, claim.metadata.namespace, claim.metadata.name, (latest: Obj) => {
            latest.metadata.annotations = { ...(latest.metadata.annotations ?? {}), [ANN_SELECTED_NODE]: nodeName };
            return latest;
          });
        }
        return await waitForBindings(pod, decision);
      } catch (error) {
        const message = error instanceof ApiError ? error.message : String((error as Error).message ?? error);
        return status.error(`binding volumes: ${message}`);
      } finally {
        release(decision);
      }
    },
  };
}
