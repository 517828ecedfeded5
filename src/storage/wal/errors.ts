/**
 * Raised when the durable state on disk is not exactly what this server wrote: a record or
 * snapshot fails authentication, the hash chain or the sequence breaks, a checkpoint signature is
 * wrong, or the data is older than the signed marker says it must be. The message names what was
 * wrong and where, because the server refuses to start on it and an operator has to act.
 */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/** The data key from the key provider is not the one the data directory was sealed with. */
export class WrongKeyError extends IntegrityError {}
