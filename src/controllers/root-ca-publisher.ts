/**
 * The root CA publisher (upstream's rootcacertpublisher): a `kube-root-ca.crt` ConfigMap in every
 * namespace holding the cluster CA as `ca.crt`, so pods can verify the API server; put back when
 * deleted or changed.
 */
import { ApiError } from '../api/status.js';
import { CONFIG_MAPS, NAMESPACES } from '../client/resource-types.js';
import type { ControllerDefinition } from './manager.js';
import { startReconciler } from './reconciler.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** The setting that carries the CA certificate (PEM) to publish. */
export const ROOT_CA_SETTING = 'root-ca-cert';
const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export const rootCaPublisher: ControllerDefinition = {
  name: 'root-ca-cert-publisher',
  aliases: ['root-ca-certificate-publisher'],
  serviceAccount: 'root-ca-cert-publisher',
  start(context) {
    const caPem = context.settings[ROOT_CA_SETTING];
    if (typeof caPem !== 'string' || caPem === '') throw new Error(`root-ca-cert-publisher needs the ${ROOT_CA_SETTING} setting`);
    const namespaces = context.informers.informer(NAMESPACES);
    const configMaps = context.informers.informer(CONFIG_MAPS, { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
    const queue = context.newQueue('root_ca_cert_publisher');
    const enqueue = (object: { metadata: { namespace?: string } }) => object.metadata.namespace && queue.add(object.metadata.namespace);
    const handlers = [
      namespaces.addEventHandler({ onAdd: (ns) => queue.add(ns.metadata.name!), onUpdate: (_old, ns) => queue.add(ns.metadata.name!) }),
      configMaps.addEventHandler({ onUpdate: (_old, cm) => enqueue(cm), onDelete: enqueue }),
    ];

    async function reconcile(name: string) {
      const namespace = namespaces.lister.get(undefined, name);
      if (!namespace || namespace.metadata.deletionTimestamp) return;
      const data = { 'ca.crt': caPem as string };
      const current = configMaps.lister.get(name, ROOT_CA_CONFIGMAP);
      try {
        if (!current) {
          await context.client.create(CONFIG_MAPS, name, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace: name, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } }, data });
          return;
        }
        if (JSON.stringify(current.data ?? {}) === JSON.stringify(data) && current.metadata.annotations?.[DESCRIPTION_ANNOTATION]) return;
        const updated = structuredClone(current);
        updated.data = data;
        delete updated.binaryData;
        updated.metadata.annotations = { ...updated.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION };
        await context.client.update(CONFIG_MAPS, name, ROOT_CA_CONFIGMAP, updated);
      } catch (error) {
        // A terminating namespace refuses new content; a race with another writer is retried by the next event.
        if (error instanceof ApiError && (error.code === 403 || error.code === 404 || error.code === 409)) return;
        throw error;
      }
    }

    return startReconciler({ context, queue, informers: [namespaces, configMaps], reconcile, handlers });
  },
};
