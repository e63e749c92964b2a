/**
 * provmon ui's shared deps carry only the EUI names the plugin and the core shim import: every EUI name the built
 * bundles read is among them, and an import the list cannot be read from fails the build rather than leave a name out.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import { euiNamesImported, loadAssets } from './assets.ts';

afterAll(removeTempDirs);

describe("provmon ui's EUI", () => {
  for (const target of KIBANA_TARGETS) {
    test(`Kibana ${target.kibanaVersion}: every EUI name the plugin bundle and the core shim read is in the shared deps`, async () => {
      const assets = await loadAssets(target);
      const names = euiNamesImported();
      const read = new Set([...`${assets.plugin}\n${assets.core}`.matchAll(/\.(Eui[A-Z]\w*)\b/g)].map((m) => m[1]!));
      expect(read.size).toBeGreaterThan(10);
      expect([...read].filter((n) => !names.includes(n))).toEqual([]);
      // and the shared deps define each of them (a name EUI does not export would fail esbuild's build)
      for (const n of names) expect(assets.sharedDeps).toContain(n);
    });
  }

  test('an import of EUI other than `import { … }` fails, naming the file; aliases and type imports are read', () => {
    const dir = tempDir('provmon-eui-imports-');
    const good = join(dir, 'good.ts');
    writeFileSync(good, "import { EuiButton as Button, EuiText } from '@elastic/eui';\nimport type { EuiBasicTableColumn } from '@elastic/eui';\n");
    expect(euiNamesImported([good])).toEqual(['EuiButton', 'EuiText']);
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, "import * as eui from '@elastic/eui';\n");
    expect(() => euiNamesImported([good, bad])).toThrow(`${bad}: an import from @elastic/eui that is not`);
  });
});
