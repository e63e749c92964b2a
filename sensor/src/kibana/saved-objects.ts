/**
 * The saved objects shipped in kibana-plugin/saved-objects/ (NDJSON, the format of Kibana's saved-objects import
 * API): data views, a saved search, Vega visualizations and three dashboards. Read and checked here for
 * `provmon setup --kibana` and the tests: every line an object with type, id, attributes and references, every
 * reference resolving inside the files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProvmonError } from '../errors.ts';

export const SAVED_OBJECTS_DIR = resolve(import.meta.dir, '../../../kibana-plugin/saved-objects');

export interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: { id: string; name: string; type: string }[];
  coreMigrationVersion?: string;
  typeMigrationVersion?: string;
}

export interface SavedObjectFile {
  name: string;
  text: string;
  objects: SavedObject[];
}

export function loadSavedObjects(dir = SAVED_OBJECTS_DIR): SavedObjectFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort();
  const out = files.map((name) => {
    const text = readFileSync(join(dir, name), 'utf8');
    const objects = text
      .split('\n')
      .filter((l) => l.trim())
      .map((line, i) => {
        let o: SavedObject;
        try {
          o = JSON.parse(line) as SavedObject;
        } catch (error) {
          throw new ProvmonError(`${name} line ${i + 1} is not JSON: ${(error as Error).message}`);
        }
        if (typeof o.type !== 'string' || typeof o.id !== 'string' || typeof o.attributes !== 'object' || !Array.isArray(o.references)) {
          throw new ProvmonError(`${name} line ${i + 1} is not a saved object (type, id, attributes and references are required)`);
        }
        return o;
      });
    return { name, text, objects };
  });
  const known = new Set(out.flatMap((f) => f.objects.map((o) => `${o.type}:${o.id}`)));
  for (const f of out) {
    for (const o of f.objects) {
      for (const r of o.references) {
        if (!known.has(`${r.type}:${r.id}`)) throw new ProvmonError(`${f.name}: ${o.type} ${o.id} refers to ${r.type} ${r.id}, which no file defines`);
      }
    }
  }
  return out;
}

/** The Vega spec of a vega visualization (its visState's params.spec), parsed. */
export function vegaSpec(o: SavedObject): Record<string, unknown> | undefined {
  if (o.type !== 'visualization') return undefined;
  const vis = JSON.parse(String(o.attributes.visState)) as { type: string; params: { spec: string } };
  return vis.type === 'vega' ? (JSON.parse(vis.params.spec) as Record<string, unknown>) : undefined;
}
