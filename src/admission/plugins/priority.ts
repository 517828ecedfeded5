/**
 * Priority (upstream's plugin/pkg/admission/priority): a new pod's priorityClassName is resolved
 * to its PriorityClass — or, when it names none, the global default (the lowest-valued one if
 * several claim it), else priority 0 — and spec.priority and spec.preemptionPolicy are set from
 * it; a pod that states a different number is refused. PriorityClass writes may not make a
 * second global default. The built-in system-cluster-critical and system-node-critical classes
 * are created at start (src/server/bootstrap.ts), as upstream's post-start hook does.
 */
import type { Registry } from '../../registry/registry.js';
import type { Obj } from '../../registry/strategy.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../registry/priority-classes.js';
import { admissionForbidden, type AdmissionPlugin } from '../admission.js';

const DEFAULT_PREEMPTION = 'PreemptLowerPriority';

function classes(registry: Registry): Obj[] {
  return registry.of('scheduling.k8s.io', 'priorityclasses').list(undefined, {}).items.map((item) => item.object as Obj);
}

/** The global default class, if any: the lowest value among those marked globalDefault. */
function globalDefault(registry: Registry): Obj | undefined {
  return classes(registry)
    .filter((c) => c.globalDefault === true)
    .sort((a, b) => (a.value ?? 0) - (b.value ?? 0))[0];
}

export function priority(registry: () => Registry): AdmissionPlugin {
  return {
    name: 'Priority',
    admit(attributes) {
      if (attributes.operation !== 'CREATE' || attributes.subresource || attributes.resource.group !== '' || attributes.resource.resource !== 'pods') return;
      const spec = attributes.object?.spec;
      if (!spec || typeof spec !== 'object') return;
      let value = 0;
      let preemptionPolicy = DEFAULT_PREEMPTION;
      const name: string = spec.priorityClassName ?? '';
      if (name) {
        const found = registry().of('scheduling.k8s.io', 'priorityclasses').tryGet(undefined, name)?.object as Obj | undefined;
        if (found) {
          value = found.value ?? 0;
          preemptionPolicy = found.preemptionPolicy ?? DEFAULT_PREEMPTION;
        } else if (name in SYSTEM_PRIORITY_CLASSES) value = SYSTEM_PRIORITY_CLASSES[name];
        else throw admissionForbidden(attributes, `no PriorityClass with name ${name} was found`);
      } else {
        const fallback = globalDefault(registry());
        if (fallback) {
          spec.priorityClassName = fallback.metadata.name;
          value = fallback.value ?? 0;
          preemptionPolicy = fallback.preemptionPolicy ?? DEFAULT_PREEMPTION;
        }
      }
      if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
        throw admissionForbidden(attributes, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
      }
      if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== preemptionPolicy) {
        throw admissionForbidden(attributes, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${preemptionPolicy} from the given PriorityClass name`);
      }
      spec.priority = value;
      spec.preemptionPolicy = preemptionPolicy;
    },
    validate(attributes) {
      if (attributes.resource.group !== 'scheduling.k8s.io' || attributes.resource.resource !== 'priorityclasses') return;
      if ((attributes.operation !== 'CREATE' && attributes.operation !== 'UPDATE') || attributes.object?.globalDefault !== true) return;
      const other = classes(registry()).find((c) => c.globalDefault === true && c.metadata.name !== attributes.object!.metadata.name);
      if (other) throw admissionForbidden(attributes, `PriorityClass ${other.metadata.name} is already marked as default. Only one default can exist`);
    },
  };
}
