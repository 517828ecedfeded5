/** Usage errors, the same for every command: one line on stderr, exit code 2. */

/** A command line that cannot be run as given (unknown flag, missing or bad value). */
export class UsageError extends Error {}

/** Errors node:util parseArgs throws for an unknown option, a missing value and the like. */
export function isParseArgsError(error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('ERR_PARSE_ARGS');
}

/** Writes `nautilus COMMAND: MESSAGE (see …--help)` as one line and returns the exit code 2. */
export function reportUsageError(stderr: { write(text: string): unknown }, command: string, message: string): 2 {
  const oneLine = message.replace(/\s*\n\s*/g, ' ').trim();
  stderr.write(`nautilus ${command}: ${oneLine} (see \`nautilus ${command} --help\`)\n`);
  return 2;
}
