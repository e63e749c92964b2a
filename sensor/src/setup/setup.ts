/**
 * `provmon setup`: check the cluster, then install the assets of the chosen profile (docs/elasticsearch.md).
 */
import type { Client } from '@elastic/elasticsearch';
import { ProvmonError } from '../errors.ts';
import { createClient, describeTarget, type EsConfig } from '../output/elasticsearch/client.ts';
import { assetOptions, buildAssets, currentEnrichPolicyName, type Asset } from './assets/index.ts';
import { clusterInfo, connectionProblem, fullProfileGaps, versionGaps, type ClusterInfo } from './check.ts';
import { installAssets, type ReportLine } from './install.ts';

export interface SetupOptions {
  coreOnly?: boolean;
  /** Only re-execute the DNS enrich policy (for cron), install nothing. */
  refreshEnrich?: boolean;
  /** Receives every line of the report (stdout in the CLI). */
  print: (line: string) => void;
  /** Use this client instead of building one from es (tests). */
  client?: Client;
}

export interface SetupResult {
  cluster: ClusterInfo;
  lines: ReportLine[];
}

export function formatLine(line: ReportLine): string {
  return `  ${line.action.padEnd(11)} ${line.what}${line.detail ? `  (${line.detail})` : ''}`;
}

export async function runSetup(es: EsConfig, options: SetupOptions): Promise<SetupResult> {
  const target = describeTarget(es);
  const client = options.client ?? createClient(es);
  try {
    let cluster: ClusterInfo;
    try {
      cluster = await clusterInfo(client);
    } catch (error) {
      throw connectionProblem(error, target);
    }
    const about = `Elasticsearch ${cluster.versions.join(', ')} at ${target}, cluster ${cluster.clusterName}, ${cluster.nodes.length} node${cluster.nodes.length === 1 ? '' : 's'}`;
    const versionProblems = versionGaps(cluster);
    if (versionProblems.length > 0) {
      throw new ProvmonError(`${about}: unsupported version\n${versionProblems.map((g) => `  - ${g.what}`).join('\n')}`, {
        hint: 'upgrade the cluster; nothing was installed',
      });
    }

    if (options.refreshEnrich) {
      const name = currentEnrichPolicyName();
      try {
        await client.enrich.executePolicy({ name, wait_for_completion: true });
      } catch (error) {
        throw new ProvmonError(`could not execute the enrich policy ${name} on ${about}: ${(error as Error).message}`, {
          hint: 'run `provmon setup` (without --core-only) first; it creates the policy',
        });
      }
      options.print(`executed enrich policy ${name} on ${about}`);
      return { cluster, lines: [{ action: 'executed', what: `enrich policy ${name}` }] };
    }

    const full = buildAssets(assetOptions(es, 'full'));
    let assets: Asset[] = full;
    let skipped: Asset[] = [];
    if (options.coreOnly) {
      assets = buildAssets(assetOptions(es, 'core'));
      const core = new Set(assets.map((a) => `${a.kind}/${a.name}`));
      skipped = full.filter((a) => !core.has(`${a.kind}/${a.name}`));
    } else {
      const gaps = await fullProfileGaps(client, full);
      if (gaps.length > 0) {
        throw new ProvmonError(
          `${about} lacks what the full provmon install needs; nothing was installed:\n${gaps.map((g) => `  - missing: ${g.what}\n    lost: ${g.lost}`).join('\n')}`,
          {
            hint:
              '`provmon setup --core-only` installs only what Elasticsearch core supports (index templates with the ECS mappings; no pipelines, lifecycle, enrich or rollups), ' +
              'or use a distribution with these modules (the default Elasticsearch distribution has them all, with a basic license)',
          },
        );
      }
    }

    options.print(`provmon setup: ${about}; profile ${options.coreOnly ? 'core (--core-only)' : 'full'}`);
    const lines = await installAssets(client, assets, {
      profile: options.coreOnly ? 'core' : 'full',
      namespace: es.namespace,
      skipped,
      onLine: (l) => options.print(formatLine(l)),
    });
    const count = (a: ReportLine['action']) => lines.filter((l) => l.action === a).length;
    options.print(`done: ${count('installed')} installed, ${count('upgraded')} upgraded, ${count('unchanged')} unchanged, ${count('skipped')} skipped`);
    return { cluster, lines };
  } finally {
    if (!options.client) await client.close();
  }
}
