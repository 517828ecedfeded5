/** core/v1 ConfigMap. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { MAX_DATA_BYTES, validateDataKeys, validateImmutableData } from './common/config-data.js';
import { tooLong } from './common/validation.js';

function dataSize(configMap: Obj): number {
  let total = 0;
  for (const [key, value] of Object.entries(isPlainObject(configMap.data) ? configMap.data : {})) total += key.length + String(value).length;
  for (const [key, value] of Object.entries(isPlainObject(configMap.binaryData) ? configMap.binaryData : {})) {
    total += key.length + Buffer.byteLength(String(value), 'base64');
  }
  return total;
}

function validateConfigMap(configMap: Obj): FieldError[] {
  const errs = [...validateDataKeys(configMap.data, 'data'), ...validateDataKeys(configMap.binaryData, 'binaryData')];
  if (isPlainObject(configMap.data) && isPlainObject(configMap.binaryData)) {
    for (const key of Object.keys(configMap.binaryData)) {
      if (key in configMap.data) errs.push(fieldErrors.invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
    }
  }
  if (dataSize(configMap) > MAX_DATA_BYTES) errs.push(tooLong('[]', MAX_DATA_BYTES));
  return errs;
}

export const configMaps: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,

  validate(configMap, old) {
    const errs = validateConfigMap(configMap);
    if (old) errs.push(...validateImmutableData(configMap, old, ['data', 'binaryData']));
    return errs;
  },

  columns: [
    {
      name: 'Data',
      type: 'string',
      description: 'Data contains the configuration data.',
      cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length,
    },
    ageColumn,
  ],
};
