/** Exit codes of the CLI; README "Exit codes" and `provmon --help` describe the same table. */
export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  /** sysexits EX_DATAERR: an input file (capture) was damaged; what could be read was processed */
  damagedInput: 65,
  /** missing privileges or kernel support */
  unsupported: 77,
} as const;

/**
 * An error meant for the person running provmon: `message` says what is wrong, `hint` how to fix it.
 * The CLI prints these without a stack trace and exits with `exitCode`; anything else is a bug and keeps its stack.
 */
export class ProvmonError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProvmonError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** One line for a human: the message, then the hint on its own line when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof ProvmonError) {
    return error.hint ? `${error.message}\n  hint: ${error.hint}` : error.message;
  }
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
