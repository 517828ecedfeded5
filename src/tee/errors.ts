/**
 * The single error type of every attestation verifier: the message names the check that failed
 * (e.g. "nitro: certificate chain: cabundle[1] signature does not verify"), so a person reading a
 * CLI error or a server log knows what to look at without a debugger.
 */
export class VerificationError extends Error {
  override readonly name = 'VerificationError';
}

/** Throws a VerificationError when the condition is false; keeps parsers one line per check. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new VerificationError(message);
}
