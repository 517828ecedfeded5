/**
 * A hand-written OpenAPI v2 definitions map mirroring the parts of upstream's core/v1 and apps/v1
 * types that carry patch metadata (the struct tags in k8s.io/api): containers merge on name,
 * ports on containerPort, env on name, volumes on name with retainKeys, finalizers merge as a
 * set, tolerations and args are atomic, the Deployment strategy uses retainKeys.
 */

import type { OpenApiSchemaObject } from '../../../src/api/patch/schema.js';

const ref = (name: string): OpenApiSchemaObject => ({ $ref: `#/definitions/${name}` });
const stringMap: OpenApiSchemaObject = { type: 'object', additionalProperties: { type: 'string' } };

export const podDefinitions: Record<string, OpenApiSchemaObject> = {
  'io.k8s.api.core.v1.Pod': {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      spec: ref('io.k8s.api.core.v1.PodSpec'),
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: {
      name: { type: 'string' },
      labels: stringMap,
      annotations: stringMap,
      finalizers: {
        type: 'array',
        items: { type: 'string' },
        'x-kubernetes-list-type': 'set',
        'x-kubernetes-patch-strategy': 'merge',
      },
      ownerReferences: {
        type: 'array',
        items: ref('io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference'),
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['uid'],
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
      },
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': {
    type: 'object',
    properties: { uid: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' } },
  },
  'io.k8s.api.core.v1.PodSpec': {
    type: 'object',
    properties: {
      containers: {
        type: 'array',
        items: ref('io.k8s.api.core.v1.Container'),
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
      },
      volumes: {
        type: 'array',
        items: ref('io.k8s.api.core.v1.Volume'),
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge,retainKeys',
      },
      tolerations: { type: 'array', items: ref('io.k8s.api.core.v1.Toleration'), 'x-kubernetes-list-type': 'atomic' },
      // Declares a list type but no patch strategy, as some newer fields do.
      schedulingGates: {
        type: 'array',
        items: { type: 'object', properties: { name: { type: 'string' } } },
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
      nodeSelector: stringMap,
      restartPolicy: { type: 'string' },
    },
  },
  'io.k8s.api.core.v1.Container': {
    type: 'object',
    properties: {
      name: { type: 'string' },
      image: { type: 'string' },
      args: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' },
      ports: {
        type: 'array',
        items: ref('io.k8s.api.core.v1.ContainerPort'),
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
        'x-kubernetes-patch-merge-key': 'containerPort',
        'x-kubernetes-patch-strategy': 'merge',
      },
      env: {
        type: 'array',
        items: ref('io.k8s.api.core.v1.EnvVar'),
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
      },
      resources: ref('io.k8s.api.core.v1.ResourceRequirements'),
    },
  },
  'io.k8s.api.core.v1.ContainerPort': {
    type: 'object',
    properties: { containerPort: { type: 'integer' }, name: { type: 'string' }, protocol: { type: 'string' } },
  },
  'io.k8s.api.core.v1.EnvVar': {
    type: 'object',
    properties: { name: { type: 'string' }, value: { type: 'string' } },
  },
  'io.k8s.api.core.v1.ResourceRequirements': {
    type: 'object',
    properties: { limits: stringMap, requests: stringMap },
  },
  'io.k8s.api.core.v1.Volume': {
    type: 'object',
    properties: {
      name: { type: 'string' },
      emptyDir: { type: 'object', properties: { medium: { type: 'string' } } },
      configMap: { type: 'object', properties: { name: { type: 'string' } } },
    },
  },
  'io.k8s.api.core.v1.Toleration': {
    type: 'object',
    properties: { key: { type: 'string' }, effect: { type: 'string' }, value: { type: 'string' } },
  },
  'io.k8s.api.apps.v1.Deployment': {
    type: 'object',
    properties: {
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      spec: ref('io.k8s.api.apps.v1.DeploymentSpec'),
    },
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    type: 'object',
    properties: {
      replicas: { type: 'integer' },
      strategy: { ...ref('io.k8s.api.apps.v1.DeploymentStrategy'), 'x-kubernetes-patch-strategy': 'retainKeys' },
      template: ref('io.k8s.api.core.v1.PodTemplateSpec'),
    },
  },
  'io.k8s.api.apps.v1.DeploymentStrategy': {
    type: 'object',
    properties: {
      type: { type: 'string' },
      rollingUpdate: { type: 'object', properties: { maxSurge: {}, maxUnavailable: {} } },
    },
  },
  'io.k8s.api.core.v1.PodTemplateSpec': {
    type: 'object',
    properties: {
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      spec: ref('io.k8s.api.core.v1.PodSpec'),
    },
  },
};
