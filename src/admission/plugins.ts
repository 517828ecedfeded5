/** The admission plugins the server runs, in upstream's order (mutating phase first, then validating). */
import type { AdmissionPlugin } from './admission.js';

export function defaultAdmissionPlugins(): AdmissionPlugin[] {
  return [];
}
