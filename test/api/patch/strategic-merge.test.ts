import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PatchError } from '../../../src/api/patch/errors.js';
import { schemaFromOpenApi } from '../../../src/api/patch/schema.js';
import { applyStrategicMergePatch } from '../../../src/api/patch/strategic-merge.js';
import { podDefinitions } from './pod-schema.fixture.js';

const podSchema = schemaFromOpenApi(podDefinitions, '#/definitions/io.k8s.api.core.v1.Pod');
const deploymentSchema = schemaFromOpenApi(podDefinitions, 'io.k8s.api.apps.v1.Deployment');

/** Freezes a value deeply, so any attempt by the engine to change an input throws. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) frozen(member);
    Object.freeze(value);
  }
  return value;
}

/** Applies a patch to a Pod; both inputs are frozen. */
function patchPod(original: unknown, patch: unknown): any {
  return applyStrategicMergePatch(frozen(original), frozen(patch), podSchema);
}

function assertPatchError(run: () => unknown, code: number, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof PatchError, `expected a PatchError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

const podWith = (spec: object, metadata: object = { name: 'demo' }) => ({ metadata, spec });

describe('strategic merge patch: merge lists of objects', () => {
  it('adds a container by name and keeps the existing one; the new one comes first (kubectl patch docs)', () => {
    const original = podWith({ containers: [{ name: 'patch-demo-ctr', image: 'nginx' }] });
    const result = patchPod(original, { spec: { containers: [{ name: 'patch-demo-ctr-2', image: 'redis' }] } });
    assert.deepEqual(result.spec.containers, [
      { name: 'patch-demo-ctr-2', image: 'redis' },
      { name: 'patch-demo-ctr', image: 'nginx' },
    ]);
  });

  it('merges into the container with the same name, keeping its other fields', () => {
    const original = podWith({
      containers: [
        { name: 'app', image: 'app:1', args: ['--a'] },
        { name: 'sidecar', image: 'proxy:1' },
      ],
    });
    const result = patchPod(original, { spec: { containers: [{ name: 'app', image: 'app:2' }] } });
    assert.deepEqual(result.spec.containers, [
      { name: 'app', image: 'app:2', args: ['--a'] },
      { name: 'sidecar', image: 'proxy:1' },
    ]);
  });

  it('merges nested ports by containerPort inside a merged container', () => {
    const original = podWith({
      containers: [{ name: 'web', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443, name: 'https' }] }],
    });
    const result = patchPod(original, {
      spec: { containers: [{ name: 'web', ports: [{ containerPort: 443, protocol: 'TCP' }, { containerPort: 8080 }] }] },
    });
    assert.deepEqual(result.spec.containers[0].ports, [
      { containerPort: 80, name: 'http' },
      { containerPort: 443, name: 'https', protocol: 'TCP' },
      { containerPort: 8080 },
    ]);
  });

  it('merges env by name and deletes a field of one entry with null', () => {
    const original = podWith({
      containers: [{ name: 'c', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }],
    });
    const result = patchPod(original, { spec: { containers: [{ name: 'c', env: [{ name: 'B', value: null }] }] } });
    assert.deepEqual(result.spec.containers[0].env, [{ name: 'A', value: '1' }, { name: 'B' }]);
  });

  it('takes the order of the patch for the elements it names (upstream "preserve the order from the patch")', () => {
    const original = podWith({ containers: [{ name: '1' }, { name: '2', image: 'b' }, { name: '3' }] });
    const result = patchPod(original, {
      spec: { containers: [{ name: '3', image: 'c' }, { name: '1', image: 'a' }] },
    });
    assert.deepEqual(result.spec.containers, [
      { name: '2', image: 'b' },
      { name: '3', image: 'c' },
      { name: '1', image: 'a' },
    ]);
  });

  it('merges ownerReferences by uid', () => {
    const original = podWith({}, { name: 'p', ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs' }] });
    const result = patchPod(original, { metadata: { ownerReferences: [{ uid: 'u1', name: 'rs-renamed' }] } });
    assert.deepEqual(result.metadata.ownerReferences, [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs-renamed' }]);
  });
});

describe('strategic merge patch: replaced lists', () => {
  it('replaces a list without a patch strategy (tolerations, kubectl patch docs)', () => {
    const original = podWith({ tolerations: [{ effect: 'NoSchedule', key: 'dedicated', value: 'test-team' }] });
    const result = patchPod(original, { spec: { tolerations: [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }] } });
    assert.deepEqual(result.spec.tolerations, [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }]);
  });

  it('replaces a list of primitives without a merge strategy (args)', () => {
    const original = podWith({ containers: [{ name: 'c', args: ['a', 'b'] }] });
    const result = patchPod(original, { spec: { containers: [{ name: 'c', args: ['c'] }] } });
    assert.deepEqual(result.spec.containers[0].args, ['c']);
  });

  it('replaces a list that declares x-kubernetes-list-type=map but no patch strategy, like upstream', () => {
    const original = podWith({ schedulingGates: [{ name: 'a' }, { name: 'b' }] });
    const result = patchPod(original, { spec: { schedulingGates: [{ name: 'c' }] } });
    assert.deepEqual(result.spec.schedulingGates, [{ name: 'c' }]);
  });

  it('replaces a merge list when it carries a {"$patch": "replace"} element', () => {
    const original = podWith({ containers: [{ name: 'a', image: 'x' }, { name: 'b' }] });
    const result = patchPod(original, { spec: { containers: [{ name: 'c', image: 'y' }, { $patch: 'replace' }] } });
    assert.deepEqual(result.spec.containers, [{ name: 'c', image: 'y' }]);
  });

  it('empties a merge list with a lone {"$patch": "replace"} element', () => {
    const original = podWith({ containers: [{ name: 'a' }, { name: 'b' }] });
    assert.deepEqual(patchPod(original, { spec: { containers: [{ $patch: 'replace' }] } }).spec.containers, []);
  });

  it('replaces a value whose type changed', () => {
    const original = podWith({ nodeSelector: { disk: 'ssd' } });
    assert.deepEqual(patchPod(original, { spec: { nodeSelector: ['odd'] } }).spec.nodeSelector, ['odd']);
  });
});

describe('strategic merge patch: deletions', () => {
  it('deletes a list element with $patch: delete', () => {
    const original = podWith({ containers: [{ name: 'a' }, { name: 'b', image: 'x' }] });
    const result = patchPod(original, { spec: { containers: [{ name: 'a', $patch: 'delete' }] } });
    assert.deepEqual(result.spec.containers, [{ name: 'b', image: 'x' }]);
  });

  it('deletes every element sharing the merge key, and ignores a delete of a missing one', () => {
    const original = podWith({ containers: [{ name: 'a' }, { name: 'a' }, { name: 'b' }] });
    const result = patchPod(original, {
      spec: { containers: [{ name: 'a', $patch: 'delete' }, { name: 'zzz', $patch: 'delete' }] },
    });
    assert.deepEqual(result.spec.containers, [{ name: 'b' }]);
  });

  it('clears a map with $patch: delete', () => {
    const original = podWith({}, { name: 'p', labels: { a: '1', b: '2' } });
    assert.deepEqual(patchPod(original, { metadata: { labels: { $patch: 'delete' } } }).metadata.labels, {});
  });

  it('replaces a map with $patch: replace', () => {
    const original = podWith({}, { name: 'p', labels: { a: '1', b: '2' } });
    const result = patchPod(original, { metadata: { labels: { $patch: 'replace', c: '3' } } });
    assert.deepEqual(result.metadata.labels, { c: '3' });
  });

  it('takes a map with $patch: replace literally, nested lists included (SMP design doc)', () => {
    const original = podWith({ containers: [{ name: 'nginx', image: 'nginx-0.9' }, { name: 'log' }], restartPolicy: 'Always' });
    const result = patchPod(original, { spec: { $patch: 'replace', containers: [{ name: 'nginx', image: 'nginx-1.0' }] } });
    assert.deepEqual(result.spec, { containers: [{ name: 'nginx', image: 'nginx-1.0' }] });
  });

  it('deletes a map key with null and does not add a key that was absent', () => {
    const original = podWith({ restartPolicy: 'Always' }, { name: 'p', labels: { a: '1', b: '2' } });
    const result = patchPod(original, { metadata: { labels: { a: null, z: null } }, spec: { restartPolicy: null } });
    assert.deepEqual(result, { metadata: { name: 'p', labels: { b: '2' } }, spec: {} });
  });

  it('removes values from a primitive list with $deleteFromPrimitiveList', () => {
    const original = podWith({}, { name: 'p', finalizers: ['a', 'b', 'c', 'b'] });
    const result = patchPod(original, { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'missing'] } });
    assert.deepEqual(result.metadata.finalizers, ['a', 'c']);
  });
});

describe('strategic merge patch: primitive merge lists', () => {
  it('unions finalizers without duplicates', () => {
    const original = podWith({}, { name: 'p', finalizers: ['a', 'b'] });
    const result = patchPod(original, { metadata: { finalizers: ['b', 'c', 'c'] } });
    assert.deepEqual(result.metadata.finalizers, ['a', 'b', 'c']);
  });

  it('puts a value the live list lacks first, as upstream orders merged lists', () => {
    const original = podWith({}, { name: 'p', finalizers: ['a', 'b'] });
    assert.deepEqual(patchPod(original, { metadata: { finalizers: ['c'] } }).metadata.finalizers, ['c', 'a', 'b']);
  });

  it('keeps the patch order of the values it names (upstream "merging int list" case)', () => {
    const original = podWith({}, { name: 'p', finalizers: ['1', '2', '3'] });
    assert.deepEqual(patchPod(original, { metadata: { finalizers: ['3', '1'] } }).metadata.finalizers, ['2', '3', '1']);
  });
});

describe('strategic merge patch: $setElementOrder', () => {
  it('orders a merged list by the directive, placing new elements where it says', () => {
    const original = podWith({ containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }] });
    const result = patchPod(original, {
      spec: {
        '$setElementOrder/containers': [{ name: 'd' }, { name: 'a' }, { name: 'b' }, { name: 'c' }],
        containers: [{ name: 'd' }, { name: 'c' }],
      },
    });
    assert.deepEqual(result.spec.containers, [{ name: 'd' }, { name: 'a', image: '1' }, { name: 'b', image: '2' }, { name: 'c' }]);
  });

  it('reorders finalizers and containers without changing them (SMP design doc)', () => {
    const original = podWith(
      { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }, { name: 'c', image: '3' }] },
      { name: 'p', finalizers: ['a', 'b', 'c'] },
    );
    const result = patchPod(original, {
      metadata: { '$setElementOrder/finalizers': ['b', 'c', 'a'] },
      spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'c' }, { name: 'a' }] },
    });
    assert.deepEqual(result.metadata.finalizers, ['b', 'c', 'a']);
    assert.deepEqual(result.spec.containers, [{ name: 'b', image: '2' }, { name: 'c', image: '3' }, { name: 'a', image: '1' }]);
  });

  it('leaves server-only elements after the ordered element that precedes them live', () => {
    const names = (...list: string[]) => list.map((name) => ({ name }));
    const original = podWith({ containers: names('1', '2', 'injected', '3', '4') });
    const result = patchPod(original, { spec: { '$setElementOrder/containers': names('2', '1', '4', '3') } });
    assert.deepEqual(result.spec.containers, names('2', '1', 'injected', '4', '3'));
  });

  it('reorders a live list it does not otherwise change, ignoring names it lacks', () => {
    const original = podWith({}, { name: 'p', finalizers: ['1', '3'] });
    const result = patchPod(original, { metadata: { '$setElementOrder/finalizers': ['3', '2', '1'] } });
    assert.deepEqual(result.metadata.finalizers, ['3', '1']);
  });

  it('keeps a server-only element in its live place next to a delete and an add (kubectl apply 3-way case)', () => {
    const original = podWith({ containers: [{ name: '1' }, { name: '2', image: 'b' }, { name: '4', image: 'c' }] });
    const result = patchPod(original, {
      spec: {
        '$setElementOrder/containers': [{ name: '2' }, { name: '3' }],
        containers: [{ name: '3' }, { name: '1', $patch: 'delete' }],
      },
    });
    assert.deepEqual(result.spec.containers, [{ name: '2', image: 'b' }, { name: '4', image: 'c' }, { name: '3' }]);
  });

  it('applies $deleteFromPrimitiveList after ordering (upstream "add and delete items in lists of scalars")', () => {
    const original = podWith({}, { name: 'p', finalizers: ['1', '2', '3', '4'] });
    const result = patchPod(original, {
      metadata: {
        '$setElementOrder/finalizers': ['1', '2', '4'],
        '$deleteFromPrimitiveList/finalizers': ['3'],
        finalizers: ['4'],
      },
    });
    assert.deepEqual(result.metadata.finalizers, ['1', '2', '4']);
  });

  it('orders nested lists inside merged elements', () => {
    const original = podWith({ containers: [{ name: 'c', env: [{ name: 'A' }, { name: 'B' }] }] });
    const result = patchPod(original, {
      spec: { containers: [{ name: 'c', '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }] }] },
    });
    assert.deepEqual(result.spec.containers, [{ name: 'c', env: [{ name: 'B' }, { name: 'A' }] }]);
  });

  it('rejects a patch list whose order contradicts the directive (422)', () => {
    const original = podWith({ containers: [{ name: '1' }, { name: '2' }, { name: '3' }] });
    assertPatchError(
      () =>
        patchPod(original, {
          spec: {
            '$setElementOrder/containers': [{ name: '1' }, { name: '2' }, { name: '3' }],
            containers: [{ name: '3', image: 'x' }, { name: '1', image: 'y' }],
          },
        }),
      422,
      /doesn't match \$setElementOrder list/,
    );
  });
});

describe('strategic merge patch: $retainKeys', () => {
  it('clears the Deployment strategy fields not retained (kubectl patch docs)', () => {
    const original = {
      metadata: { name: 'retainkeys-demo' },
      spec: { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '30%', maxUnavailable: '25%' } } },
    };
    const result = applyStrategicMergePatch(
      frozen(original),
      frozen({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }),
      deploymentSchema,
    );
    assert.deepEqual(result, { metadata: { name: 'retainkeys-demo' }, spec: { replicas: 1, strategy: { type: 'Recreate' } } });
  });

  it('switches a volume source inside a merge,retainKeys list element', () => {
    const original = podWith({ volumes: [{ name: 'data', emptyDir: {} }, { name: 'other', emptyDir: {} }] });
    const result = patchPod(original, {
      spec: { volumes: [{ name: 'data', configMap: { name: 'cm' }, $retainKeys: ['configMap', 'name'] }] },
    });
    assert.deepEqual(result.spec.volumes, [{ name: 'data', configMap: { name: 'cm' } }, { name: 'other', emptyDir: {} }]);
  });

  it('rejects a retainKeys list that is not a list, or omits a field the patch sets (400)', () => {
    const original = podWith({}, { name: 'p', labels: { a: '1' } });
    assertPatchError(
      () => patchPod(original, { metadata: { labels: { $retainKeys: 'a' } } }),
      400,
      /^invalid patch format of retainKeys/,
    );
    assertPatchError(
      () => patchPod(original, { metadata: { labels: { $retainKeys: ['a'], b: '2' } } }),
      400,
      /^invalid patch format of retainKeys: field "b"/,
    );
  });
});

describe('strategic merge patch: fields the schema does not describe', () => {
  it('merges unknown maps recursively and replaces unknown lists', () => {
    const original = { spec: { custom: { a: 1, nested: { x: 1 } }, items: [{ name: 'a' }] } };
    const result = patchPod(original, { spec: { custom: { nested: { y: 2 } }, items: [{ name: 'b' }] } });
    assert.deepEqual(result.spec, { custom: { a: 1, nested: { x: 1, y: 2 } }, items: [{ name: 'b' }] });
  });

  it('without any schema behaves like a merge patch that replaces lists', () => {
    const original = { spec: { containers: [{ name: 'a' }], labels: { x: '1', y: '2' } } };
    const patch = { spec: { containers: [{ name: 'b' }], labels: { x: null, z: '3' } } };
    const result = applyStrategicMergePatch(frozen(original), frozen(patch), undefined);
    assert.deepEqual(result, { spec: { containers: [{ name: 'b' }], labels: { y: '2', z: '3' } } });
  });
});

describe('strategic merge patch: values with no counterpart in the original', () => {
  it('strips nulls and directives from a newly added container', () => {
    const original = podWith({ containers: [{ name: 'a' }] });
    const result = patchPod(original, {
      spec: {
        containers: [
          {
            name: 'b',
            image: null,
            '$setElementOrder/env': [{ name: 'X' }],
            env: [{ name: 'X', value: null }, { name: 'Y', $patch: 'delete' }],
          },
        ],
      },
    });
    assert.deepEqual(result.spec.containers, [{ name: 'b', env: [{ name: 'X' }] }, { name: 'a' }]);
  });

  it('strips directives from a field the original lacks', () => {
    const result = patchPod(podWith({}), {
      spec: { volumes: [{ name: 'v', emptyDir: {}, $retainKeys: ['name', 'emptyDir'] }], '$setElementOrder/volumes': [{ name: 'v' }] },
    });
    assert.deepEqual(result.spec, { volumes: [{ name: 'v', emptyDir: {} }] });
  });
});

describe('strategic merge patch: purity', () => {
  const original = podWith(
    { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }] }], tolerations: [{ key: 'k' }] },
    { name: 'p', labels: { a: '1' }, finalizers: ['f'] },
  );

  it('returns a deep-equal object for an empty patch and for a patch restating current values', () => {
    assert.deepEqual(patchPod(original, {}), original);
    const restating = {
      metadata: { labels: { a: '1' }, finalizers: ['f'] },
      spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }] }], tolerations: [{ key: 'k' }] },
    };
    assert.deepEqual(patchPod(original, restating), original);
  });

  it('never changes its inputs (they are frozen) and shares no structure with them', () => {
    const patch = { spec: { containers: [{ name: 'b', ports: [{ containerPort: 81 }] }] } };
    const result = patchPod(original, patch);
    const originalSpec = original.spec as { containers: { image: string }[] };
    result.spec.containers[0].ports[0].containerPort = 1;
    result.spec.containers[1].image = 'changed';
    assert.equal(patch.spec.containers[0].ports[0].containerPort, 81);
    assert.equal(originalSpec.containers[0].image, 'x');
  });

  it('stores "__proto__" keys as plain members', () => {
    const result = patchPod(podWith({}, { name: 'p', labels: {} }), JSON.parse('{"metadata":{"labels":{"__proto__":{"x":"1"}}}}'));
    assert.equal(Object.getPrototypeOf(result.metadata.labels), Object.prototype);
    assert.deepEqual(Object.keys(result.metadata.labels), ['__proto__']);
  });
});

describe('strategic merge patch: malformed patches', () => {
  const original = podWith({ containers: [{ name: 'a' }] }, { name: 'p', labels: { a: '1' }, finalizers: ['f'] });

  it('rejects a patch that is not an object (400)', () => {
    assertPatchError(() => patchPod(original, [{ name: 'a' }]), 400, /must be a JSON object, got array/);
  });

  it('rejects unknown and unsupported $patch directives (422)', () => {
    assertPatchError(() => patchPod(original, { metadata: { labels: { $patch: 'merge' } } }), 422, /unknown patch type: "merge"/);
    assertPatchError(() => patchPod(original, { metadata: { labels: { $patch: 'explode' } } }), 422, /unknown patch type/);
    assertPatchError(
      () => patchPod(original, { spec: { containers: [{ name: 'a', $patch: 'merge' }] } }),
      422,
      /merging lists cannot yet be specified in the patch/,
    );
    assertPatchError(
      () => patchPod(original, { spec: { containers: [{ name: 'a', $patch: 'explode' }] } }),
      422,
      /unknown patch type: "explode"/,
    );
  });

  it('rejects merge list elements without the merge key (422)', () => {
    assertPatchError(
      () => patchPod(original, { spec: { containers: [{ image: 'x' }] } }),
      422,
      /does not contain declared merge key: name/,
    );
    assertPatchError(
      () => patchPod(original, { spec: { containers: [{ $patch: 'delete', image: 'x' }] } }),
      422,
      /does not contain declared merge key: name/,
    );
  });

  it('rejects malformed parallel-list directives (400)', () => {
    assertPatchError(
      () => patchPod(original, { metadata: { '$deleteFromPrimitiveList/finalizers': 'f' } }),
      400,
      /^invalid patch format of primitive list/,
    );
    assertPatchError(
      () => patchPod(original, { metadata: { $deleteFromPrimitiveListfinalizers: ['f'] } }),
      400,
      /^invalid patch format of primitive list/,
    );
    assertPatchError(
      () => patchPod(original, { spec: { '$setElementOrder/containers': { name: 'a' } } }),
      400,
      /^invalid patch format of setElementOrder list/,
    );
  });

  it('answers an absurdly deep patch with 422 instead of exhausting the stack', () => {
    const deep = JSON.parse('{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000));
    assertPatchError(() => applyStrategicMergePatch(deep, deep, undefined), 422, /nested too deeply/);
  });

  it('rejects merge lists mixing element types, or holding lists (422)', () => {
    assertPatchError(() => patchPod(original, { metadata: { finalizers: [1] } }), 422, /list element types are not identical/);
    assertPatchError(() => patchPod(original, { metadata: { finalizers: [['x']] } }), 422, /lists of lists are not supported/);
  });
});
