/**
 * certificatesigningrequests/{name}/approval (upstream's approval subresource): what `kubectl
 * certificate approve|deny` writes. Only status.conditions change through it; the spec and the
 * certificate stay as stored, and validation keeps Approved and Denied exclusive and permanent.
 */
import { errors } from '../api/status.js';
import { bodyFormat, decodeBody, decodeObject, MAX_BODY_BYTES } from '../api/negotiation.js';
import { applyJsonPatch } from '../api/patch/json-patch.js';
import { applyMergePatch } from '../api/patch/merge-patch.js';
import { respondObject } from './responses.js';
import type { Subresource } from './subresources.js';
import type { Obj } from '../registry/strategy.js';

export const approvalSubresource: Subresource = {
  supports: (strategy) => strategy.kind === 'CertificateSigningRequest' && strategy.group === 'certificates.k8s.io',
  async handle(ex, info, query, generic) {
    const name = info.name;
    if (!name) throw errors.pathNotFound();
    if (info.verb === 'get') return respondObject(ex, 200, generic.get(undefined, name));
    if (info.verb !== 'update' && info.verb !== 'patch') throw errors.methodNotAllowed(ex.method, info.path);
    const format = bodyFormat(ex.header('content-type'));
    const body = await ex.readBody(MAX_BODY_BYTES);
    const stored = await generic.guaranteedUpdate(
      undefined,
      name,
      (current) => {
        let requested: Obj;
        if (info.verb === 'update') requested = decodeObject(body, format) as Obj;
        else if (format === 'json-patch') requested = applyJsonPatch(current, decodeBody(body, format)) as Obj;
        else requested = applyMergePatch(current, decodeBody(body, format)) as Obj;
        const precondition = requested.metadata?.resourceVersion;
        if (typeof precondition === 'string' && precondition !== '' && precondition !== current.metadata.resourceVersion) {
          throw errors.conflict(generic.ref, name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        const conditions = requested.status?.conditions;
        return { ...current, status: { ...(current.status ?? {}), conditions: Array.isArray(conditions) ? conditions : [] } };
      },
      // Written as a status update: the main resource's strategy would drop status changes.
      { dryRun: query.getAll('dryRun').includes('All'), subresource: 'status', admissionSubresource: 'approval', user: ex.user, warnings: (ex.warnings ??= []) },
    );
    respondObject(ex, 200, stored);
  },
};
