/**
 * Writes `provmon ui`'s browser assets for every supported Kibana line into the package's staging tree, so the
 * installed executable serves them without esbuild or the plugin's sources (sensor/src/ui/assets.ts reads them).
 *   bun run packaging/prebuild-ui.ts <dir>
 */
import { KIBANA_TARGETS } from '../kibana-plugin/versions.ts';
import { writePrebuiltAssets } from '../sensor/src/ui/assets.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: bun run packaging/prebuild-ui.ts <output dir>');
for (const target of KIBANA_TARGETS) {
  await writePrebuiltAssets(dir, target);
  process.stderr.write(`prebuilt provmon ui assets for Kibana ${target.kibanaVersion}\n`);
}
