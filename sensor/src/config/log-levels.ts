/** Kept apart from the schema so the CLI can list the choices without loading the validator. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
