/**
 * The one error type the patch engines throw. It is an ApiError, so the PATCH handler can answer
 * it as a `Status` unchanged; `reason` is the Kubernetes StatusReason and `code` the HTTP status.
 *
 * Which code a failure gets follows the apiserver (endpoints/handlers/patch.go):
 * - a patch document that is not well-formed, and the strategic-merge directive formats that
 *   upstream maps to BadRequest ($retainKeys, $deleteFromPrimitiveList, $setElementOrder) → 400;
 * - a well-formed patch that cannot be applied to this object → 422 Invalid. (Upstream answers
 *   some of these strategic-merge failures, e.g. a missing merge key, with a bare 500; a client
 *   caused them, so they are 422 here.)
 * - more JSON patch operations than upstream allows → 413.
 */

import { ApiError } from '../status.js';

export type PatchErrorReason = 'BadRequest' | 'Invalid' | 'RequestEntityTooLarge';

const codeOfReason: Record<PatchErrorReason, number> = {
  BadRequest: 400,
  Invalid: 422,
  RequestEntityTooLarge: 413,
};

export class PatchError extends ApiError {
  declare readonly reason: PatchErrorReason;

  constructor(reason: PatchErrorReason, message: string) {
    super(codeOfReason[reason], reason, message);
    this.name = 'PatchError';
  }
}

/** The patch document itself is malformed (400). */
export function malformedPatch(message: string): PatchError {
  return new PatchError('BadRequest', message);
}

/** The patch is well-formed but does not apply to the object (422). */
export function inapplicablePatch(message: string): PatchError {
  return new PatchError('Invalid', message);
}

/**
 * Runs a patch engine, answering stack exhaustion as the client error it is: the engines recurse
 * over the JSON, and only an absurdly deeply nested document makes them run out of stack.
 */
export function guardNesting<T>(apply: () => T): T {
  try {
    return apply();
  } catch (error) {
    if (error instanceof RangeError) throw inapplicablePatch('the patch or the object is nested too deeply');
    throw error;
  }
}
