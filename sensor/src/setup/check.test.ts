import { describe, expect, test } from 'bun:test';
import { versionGaps, type ClusterInfo } from './check.ts';

const cluster = (...versions: string[]): ClusterInfo => ({
  clusterName: 'c',
  versions,
  nodes: versions.map((version, i) => ({ name: `n${i}`, version, roles: ['ingest'] })),
});

describe('cluster version check', () => {
  test('8.7+ and 9.x are supported; older 8.x, 7.x and 10.x are refused node by node', () => {
    expect(versionGaps(cluster('8.19.9'))).toEqual([]);
    expect(versionGaps(cluster('8.7.0', '9.2.1'))).toEqual([]);
    const gaps = versionGaps(cluster('8.19.9', '8.6.2', '7.17.20', '10.0.0'));
    expect(gaps.map((g) => g.what)).toEqual([
      'node n1 runs Elasticsearch 8.6.2; provmon needs 8.7 or later 8.x, or 9.x',
      'node n2 runs Elasticsearch 7.17.20; provmon needs 8.7 or later 8.x, or 9.x',
      'node n3 runs Elasticsearch 10.0.0; provmon needs 8.7 or later 8.x, or 9.x',
    ]);
    expect(gaps[0]!.lost).toContain('ignore_missing_component_templates');
  });
});
