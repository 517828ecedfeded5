import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endOfContainer, memberOf } from '../../src/storage/json-scan.js';
import { metadataSpanOf } from '../../src/storage/compact-object.js';

const name = (text: string) => Buffer.from(JSON.stringify(text));

test('memberOf finds a member at the object’s own level, past strings, escapes and nested members of the same name', () => {
  const object = { spec: { metadata: { name: 'inner' }, note: 'a "metadata": {"x":1} in text \\"' }, n: -1.5e3, t: true, z: null, metadata: { name: 'outer', labels: { 'a/b': 'ü🚀' } } };
  for (const json of [Buffer.from(JSON.stringify(object)), Buffer.from(JSON.stringify(object, null, 2))]) {
    const metadata = memberOf(json, 0, name('metadata'))!;
    assert.deepEqual(JSON.parse(json.subarray(metadata.valueStart, metadata.valueEnd).toString()), object.metadata);
    assert.equal(json.subarray(metadata.nameStart, metadata.nameStart + 10).toString(), '"metadata"');
    const number = memberOf(json, 0, name('n'))!;
    assert.equal(json.subarray(number.valueStart, number.valueEnd).toString(), '-1500');
    assert.equal(memberOf(json, 0, name('name')), undefined, 'a nested member is not the object’s own');
    assert.equal(memberOf(json, 0, name('absent')), undefined);
  }
  assert.equal(memberOf(Buffer.from('{}'), 0, name('a')), undefined);
  assert.equal(memberOf(Buffer.from('{"a":[1,2'), 0, name('a')), undefined, 'a value that does not close');
  assert.equal(memberOf(Buffer.from('[1]'), 0, name('a')), undefined, 'not an object');
});

test('endOfContainer skips brackets inside strings', () => {
  const json = Buffer.from('{"a":"}]\\"{","b":[{}]}tail');
  assert.equal(json.subarray(0, endOfContainer(json, 0)).toString(), '{"a":"}]\\"{","b":[{}]}');
  assert.equal(endOfContainer(Buffer.from('{"a":{'), 0), -1);
});

test('metadataSpanOf places the metadata and its managedFields member as serialized', () => {
  const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } } }];
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: '"managedFields":[]' }, managedFields, uid: 'u' }, spec: { metadata: { managedFields: [] } } };
  const json = Buffer.from(JSON.stringify(pod));
  const span = metadataSpanOf(json)!;
  assert.equal(json.subarray(span.metadataStart, span.metadataEnd).toString(), JSON.stringify(pod.metadata));
  assert.equal(json.subarray(span.managedFieldsStart, span.managedFieldsEnd).toString(), `"managedFields":${JSON.stringify(managedFields)}`);
  const none = metadataSpanOf(Buffer.from(JSON.stringify({ ...pod, metadata: { name: 'p', managedFields: [] } })))!;
  assert.equal(none.managedFieldsStart, -1, 'an empty list is left as it is');
  assert.equal(metadataSpanOf(Buffer.from('{"kind":"List","items":[]}')), undefined);
  assert.equal(metadataSpanOf(Buffer.from('{"metadata":null}')), undefined);
});
