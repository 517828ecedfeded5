/**
 * A kind is declared, never coded: its strategy says how it defaults, validates, prints and
 * selects. The one generic REST path (registry/generic-store.ts) does everything else.
 */
import type { FieldError } from '../api/status.js';
import type { KubeObject } from '../api/object.js';
import type { UserInfo } from '../auth/authenticate.js';

/** Objects as strategies see them: typed loosely, as the JSON they are. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = KubeObject & Record<string, any>;

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  /** 0 = always shown, 1 = only with `-o wide` (upstream's priority). */
  priority?: 0 | 1;
  cell: (object: Obj) => string | number | boolean | null | undefined;
}

export interface ScaleSubresource {
  /** Dotted paths, as in a CRD's scale subresource. */
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface KindStrategy {
  group: string;
  version: string;
  kind: string;
  /** Lower-case plural resource name used in URLs. */
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  namespaced: boolean;
  /** Verbs served; defaults to all of them. */
  verbs?: string[];
  /** Has a /status subresource: the main resource ignores status, /status ignores the rest. */
  statusSubresource?: boolean;
  scale?: ScaleSubresource;
  /** metadata.generation is set to 1 on create and bumped when anything but metadata/status changes. */
  generation?: boolean;
  /** Names must be DNS-1123 labels rather than subdomains (e.g. Namespace, Service). */
  nameIsDnsLabel?: boolean;
  /** Names are not validated as DNS names at all (e.g. RBAC roles allow ':' ). */
  nameValidation?: (name: string) => string[];

  /** Fills in upstream defaults (mutates). Runs on create and update, like the versioned defaulters. */
  defaults?(object: Obj): void;
  /**
   * Clears what a client may not set on create (e.g. status when there is a status subresource);
   * `user` is the requester, for kinds that record it (CertificateSigningRequest).
   */
  prepareForCreate?(object: Obj, user?: UserInfo): void;
  prepareForUpdate?(object: Obj, old: Obj): void;
  /**
   * What a delete that names no propagation policy does to dependents (upstream's
   * DefaultGarbageCollectionPolicy): 'DeleteDependents' (the default: background cascade),
   * 'OrphanDependents' for kinds whose served version kept the pre-GC behaviour (core/v1
   * ReplicationController, batch/v1 Job), 'Unsupported' where the GC finalizers never apply.
   */
  defaultGarbageCollectionPolicy?: 'DeleteDependents' | 'OrphanDependents' | 'Unsupported';
  /**
   * Metadata a /status write also changes. Upstream's status strategies reset only what they name
   * (a Deployment's spec and labels), so e.g. the deployment controller records its revision
   * annotation through /status; without this, /status writes nothing but status.
   */
  statusSubresourceMetadata?: ReadonlyArray<'annotations'>;
  /** Beyond metadata.finalizers, what keeps a deleted object around (Namespace: spec.finalizers). */
  blocksDeletion?(object: Obj): boolean;
  /** Runs when a deletion starts waiting for finalizers (e.g. Namespace phase Terminating). */
  prepareForDelete?(object: Obj): void;
  /**
   * Kinds deleted gracefully (upstream's RESTGracefulDeleteStrategy.CheckGracefulDelete): the
   * grace period in seconds a delete asking for `requested` (undefined: the kind's default) gives
   * the object. Above 0 the object stays with deletionTimestamp = now + period and
   * deletionGracePeriodSeconds until someone deletes it again with a shorter period (the kubelet
   * confirms with 0); 0 removes it at once.
   */
  gracefulDeletionPeriod?(object: Obj, requested: number | undefined): number;
  /**
   * A prepared write was not persisted (dry run, invalid, lost a race): undo what prepare claimed
   * outside the object (e.g. a Service's cluster IP). `stored` is the version that stays, if any.
   */
  abandon?(attempted: Obj, stored: Obj | undefined): void;
  /** Validation of the whole object; `old` is given on update (immutable fields). */
  validate?(object: Obj, old?: Obj): FieldError[];

  /** The Name cell, where upstream decorates it (e.g. "standard (default)" for StorageClasses). */
  nameCell?(object: Obj): string;
  /** Table columns after NAME (upstream's printers); include "Age" where upstream does. */
  columns: TableColumn[];
  /**
   * Whether the table starts with the Name column (upstream's default). Events place their name
   * last, shown only with -o wide: they set false and list Name among their own columns.
   */
  leadingNameColumn?: boolean;
  /**
   * The version objects are stored at, when several versions share one storage (custom
   * resources): reads convert to `version`, writes back to this (conversion None: apiVersion only).
   */
  storageVersion?: string;
  /** Converts between this version and the storage version beyond apiVersion (e.g. autoscaling/v1 ↔ v2). */
  convert?: { fromStorage(object: Obj): Obj; toStorage(object: Obj): Obj };
  /** Sent as a Warning header on every request to this version (a deprecated CRD version). */
  deprecationWarning?: string;
  /**
   * Fields the kind's own schema does not know (custom resources); dropped when `drop`. Kinds
   * without it are checked against the built-in OpenAPI definitions.
   */
  unknownFields?(object: Obj, drop: boolean): string[];
  /** Field selectors beyond metadata.name and metadata.namespace. */
  fieldSelectors?: Record<string, (object: Obj) => string | undefined>;
}

export function apiVersionOf(strategy: Pick<KindStrategy, 'group' | 'version'>): string {
  return strategy.group ? `${strategy.group}/${strategy.version}` : strategy.version;
}

/** Storage identity of a kind's objects: "core/pods", "apps/deployments". */
export function resourceId(strategy: Pick<KindStrategy, 'group' | 'plural'>): string {
  return `${strategy.group || 'core'}/${strategy.plural}`;
}
