/** apiregistration.k8s.io/v1 APIService: a group-version served locally or by an aggregated API server. */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy } from './strategy.js';
import { ageColumn } from './common/printing.js';

export const apiServices: KindStrategy = {
  group: 'apiregistration.k8s.io',
  version: 'v1',
  kind: 'APIService',
  plural: 'apiservices',
  singular: 'apiservice',
  categories: ['api-extensions'],
  namespaced: false,
  statusSubresource: true,
  nameValidation: () => [],
  defaults(apiService) {
    if (apiService.spec?.service && typeof apiService.spec.service === 'object') apiService.spec.service.port ??= 443;
  },
  validate(apiService) {
    const errs: FieldError[] = [];
    const spec = apiService.spec ?? {};
    const expected = spec.group ? `${spec.version}.${spec.group}` : spec.version;
    if (!spec.version) errs.push(fieldErrors.required('spec.version'));
    else if (apiService.metadata.name !== expected) errs.push(fieldErrors.invalid('metadata.name', apiService.metadata.name, `must be ${expected}`));
    if (!(spec.groupPriorityMinimum > 0 && spec.groupPriorityMinimum <= 20000)) errs.push(fieldErrors.invalid('spec.groupPriorityMinimum', spec.groupPriorityMinimum, 'must be positive and less than 20000'));
    if (!(spec.versionPriority > 0 && spec.versionPriority <= 1000)) errs.push(fieldErrors.invalid('spec.versionPriority', spec.versionPriority, 'must be positive and less than 1000'));
    if (spec.service) {
      if (!spec.service.name) errs.push(fieldErrors.required('spec.service.name'));
      if (!spec.service.namespace) errs.push(fieldErrors.required('spec.service.namespace'));
      if (spec.insecureSkipTLSVerify && spec.caBundle) errs.push(fieldErrors.invalid('spec.insecureSkipTLSVerify', true, 'may not be true if caBundle is present'));
    }
    return errs;
  },
  columns: [
    { name: 'Service', type: 'string', cell: (o) => (o.spec?.service ? `${o.spec.service.namespace}/${o.spec.service.name}` : 'Local') },
    {
      name: 'Available',
      type: 'string',
      cell: (o) => {
        const available = (o.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Available');
        if (!available) return 'Unknown';
        return available.status === 'True' ? 'True' : `${available.status} (${available.reason})`;
      },
    },
    ageColumn,
  ],
};
