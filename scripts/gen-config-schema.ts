/** Writes schema/config.schema.json from the zod schema the loader validates with (the test keeps them in sync). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configJsonSchema } from '../sensor/src/config/schema.ts';

export const SCHEMA_PATH = resolve(import.meta.dir, '../schema/config.schema.json');

export function renderSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(SCHEMA_PATH, renderSchema());
  process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
}
