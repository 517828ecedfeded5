/** core/v1 PodTemplate. */
import { fieldErrors } from '../api/status.js';
import type { KindStrategy } from './strategy.js';
import { containerImages, containerNames, labelsToString } from './common/printing.js';
import { defaultPodTemplate, validatePodTemplate } from './common/pod-spec.js';

export const podTemplates: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  singular: 'podtemplate',
  namespaced: true,

  defaults(podTemplate) {
    defaultPodTemplate(podTemplate.template);
  },
  validate(podTemplate) {
    if (podTemplate.template === undefined) return [fieldErrors.required('template')];
    return validatePodTemplate(podTemplate.template, 'template');
  },

  // Upstream's PodTemplate printer shows no age.
  columns: [
    { name: 'Containers', type: 'string', description: 'Names of each container in the template.', cell: (t) => containerNames(t.template?.spec) },
    { name: 'Images', type: 'string', description: 'Images referenced by each container in the template.', cell: (t) => containerImages(t.template?.spec) },
    { name: 'Pod Labels', type: 'string', description: 'The labels for the pod template.', cell: (t) => labelsToString(t.template?.metadata?.labels) },
  ],
};
