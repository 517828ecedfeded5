/** node.k8s.io/v1 RuntimeClass. */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { dns1123LabelErrors, immutable } from './common/validation.js';

export const runtimeClasses: KindStrategy = {
  group: 'node.k8s.io',
  version: 'v1',
  kind: 'RuntimeClass',
  plural: 'runtimeclasses',
  singular: 'runtimeclass',
  namespaced: false,
  validate(runtimeClass, old) {
    const errs: FieldError[] = [];
    const handler = runtimeClass.handler;
    if (typeof handler !== 'string' || handler === '') errs.push(fieldErrors.required('handler'));
    else for (const message of dns1123LabelErrors(handler)) errs.push(fieldErrors.invalid('handler', handler, message));
    if (old) errs.push(...immutable('handler', runtimeClass.handler, old.handler));
    return errs;
  },
  columns: [{ name: 'Handler', type: 'string', cell: (o) => o.handler }, ageColumn],
};
