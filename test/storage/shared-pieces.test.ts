/**
 * Pieces shared between stored versions (field sets, container lists): a byte-level
 * deduplication, so every view of a version's bytes reads exactly what was serialized.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonByteAt, jsonSlices, jsonText, sharePieces, SharedJson, wholeJson } from '../../src/storage/shared-pieces.js';

/** A pod-like object whose first manager's field set is `template` and second's is per pod. */
function podJson(name: string, template: string, own: number): Buffer {
  const containers = Object.fromEntries(Array.from({ length: 10 }, (_, n) => [`k:{"name":"${template}-${n}}{\\"\\\\"}`, { '.': {}, 'f:image': {} }]));
  const status = Object.fromEntries(Array.from({ length: 10 }, (_, n) => [`k:{"ip":"10.0.${own}.${n}"}`, { '.': {}, 'f:ip': {} }]));
  return Buffer.from(
    JSON.stringify({
      metadata: {
        name,
        annotations: { note: '"fieldsV1":{ in a string }' },
        managedFields: [
          { manager: 'a', time: `2026-12-01T08:00:0${own % 10}Z`, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:containers': containers } } },
          { manager: 'b', time: '2026-12-01T08:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:podIPs': status } } },
        ],
      },
      spec: { emoji: '🚀', small: { fieldsV1: { 'f:x': {} } } },
    }),
  );
}

/** Every view of `kept` reads `json`: ranges from every `step`-th byte, `lengths` long (and to the end), and each such byte. */
function assertViewsRead(kept: SharedJson, json: Buffer, step: number, lengths: readonly number[]): void {
  for (let from = 0; from < json.length; from += step) {
    for (const to of [...lengths.map((length) => from + length), json.length]) {
      const end = Math.min(to, json.length);
      assert.deepEqual(Buffer.concat(jsonSlices(kept, from, end)), json.subarray(from, end), `[${from}, ${end})`);
    }
    assert.equal(jsonByteAt(kept, from), json[from], `byte ${from}`);
  }
}

/** The shared pieces of `kept`, in byte order, as text. */
function sharedPieceTexts(kept: SharedJson): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < kept.layout.length; i += 2) pieces.push((kept.layout[i + 1] as Buffer).toString());
  return pieces;
}

test('the second version with a field set shares it; every view reads the bytes serialized', () => {
  const first = podJson('p-0', 'template-x', 0);
  assert.equal(sharePieces(first), first, 'seen once: kept whole');
  const resident = sharePieces(podJson('p-1', 'template-x', 1));
  assert.ok(resident instanceof SharedJson, 'seen twice: shared');
  const third = sharePieces(podJson('p-2', 'template-x', 2));
  assert.ok(third instanceof SharedJson);
  assert.equal(third.layout.length, 2, 'only the field set both have is shared');
  assert.equal(third.layout[1], resident.layout[1], 'one copy for every version');
  for (const [json, kept] of [[podJson('p-1', 'template-x', 1), resident], [podJson('p-2', 'template-x', 2), third]] as const) {
    assert.equal(kept.length, json.length);
    assert.ok(kept.own.length < json.length - 256, 'the shared bytes are not kept twice');
    assert.deepEqual(wholeJson(kept), json);
    assertViewsRead(kept, json, 37, [0, 1, 61, 900]);
    assert.equal(jsonText(kept, 0, json.length), json.toString('utf8'));
  }
});

test('a field set shared by no other version, or too small, stays in the version bytes', () => {
  const json = Buffer.from(JSON.stringify({ metadata: { managedFields: [{ fieldsV1: { 'f:a': {} } }] } }));
  for (let i = 0; i < 3; i++) assert.equal(sharePieces(json), json, 'too small to share');
  const unclosed = Buffer.from('{"metadata":{"managedFields":[{"fieldsV1":{"f:a":{' + '"f:b":{},'.repeat(40));
  assert.equal(sharePieces(unclosed), unclosed);
  assert.equal(sharePieces(unclosed), unclosed);
});

/** A pod of template `template`: its containers list repeats across the template's pods. */
function templatedPod(name: string, template: string): Buffer {
  const containers = Array.from({ length: 4 }, (_, n) => ({ name: `${template}-${n}`, image: `registry/${template}:1`, args: ['"containers":[', '] ] }', '\\', `--template=${template}`, '--verbose'] }));
  return Buffer.from(
    JSON.stringify({
      metadata: { name, annotations: { containers: '"containers":["x"]' } },
      spec: { nodeName: name, initContainers: containers.slice(0, 3), containers },
      status: { containerStatuses: [{ name: `${template}-0`, containerID: `id-${name}` }] },
    }),
  );
}

test('containers and initContainers lists repeated across a template are shared, in byte order', () => {
  sharePieces(templatedPod('a', 'web'));
  const second = templatedPod('b', 'web');
  const kept = sharePieces(second);
  assert.ok(kept instanceof SharedJson);
  const pieces = sharedPieceTexts(kept);
  assert.deepEqual(
    pieces.map((piece) => JSON.parse(piece)),
    [JSON.parse(second.toString()).spec.initContainers, JSON.parse(second.toString()).spec.containers],
    'both lists, whole, in the order they appear',
  );
  assert.deepEqual(wholeJson(kept), second);
  const firstOfItsTemplate = templatedPod('c', 'api');
  assert.equal(sharePieces(firstOfItsTemplate), firstOfItsTemplate, "another template's lists are not shared on first sight");
  const other = sharePieces(templatedPod('d', 'web'));
  assert.ok(other instanceof SharedJson && other.layout[3] === kept.layout[3], 'one copy of the list for every pod');
});

/** A running pod of a ReplicaSet: what repeats is its labels, owner, tolerations, token volume and condition field set. */
function replicaPod(name: string, ip: string): Buffer {
  const conditions = Object.fromEntries(['ContainersReady', 'Initialized', 'PodReadyToStartContainers', 'PodScheduled', 'Ready'].map((type) => [`k:{"type":"${type}"}`, { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} }]));
  return Buffer.from(
    JSON.stringify({
      metadata: {
        name,
        labels: { app: 'checkout-frontend', 'pod-template-hash': '7d9f8c6b5d', tier: 'web', 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/managed-by': 'checkout-operator', labels: 'x' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'checkout-frontend-7d9f8c6b5d', uid: '0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b', controller: true, blockOwnerDeletion: true }],
        managedFields: [{ manager: 'kubelet', operation: 'Update', subresource: 'status', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:conditions': conditions, 'f:podIP': {}, 'f:podIPs': { [`k:{"ip":"${ip}"}`]: { '.': {}, 'f:ip': {} } } } } }],
      },
      spec: {
        tolerations: [
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        ],
        volumes: [{ name: `kube-api-access-${name}`, projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } }],
      },
      status: { podIP: ip },
    }),
  );
}

test("a ReplicaSet's repeated members are shared, the condition set inside the kubelet's per-pod field set too", () => {
  sharePieces(replicaPod('rs-a', '10.1.0.1'));
  const json = replicaPod('rs-b', '10.1.0.2');
  const kept = sharePieces(json);
  assert.ok(kept instanceof SharedJson);
  const pieces = sharedPieceTexts(kept);
  const pod = JSON.parse(json.toString());
  assert.deepEqual(
    pieces.map((piece) => JSON.parse(piece)),
    [pod.metadata.labels, pod.metadata.ownerReferences, pod.metadata.managedFields[0].fieldsV1['f:status']['f:conditions'], pod.spec.tolerations, pod.spec.volumes[0].projected],
    'every repeated member, in byte order; the per-pod field set around the conditions is not shared',
  );
  assert.deepEqual(wholeJson(kept), json);
  assertViewsRead(kept, json, 7, [0, 1, 50, 400]);
  assert.equal(jsonByteAt(kept, json.length), undefined);
});
