/**
 * The output document, the attack summary and the DOT serializer.
 */
import { describe, expect, test } from 'bun:test';
import { graphFromEvents, toDot } from '../index.ts';
import { quote } from '../dot.ts';
import { parsePoi, poiToString } from '../poi.ts';
import { syntheticWorkload } from '../synthetic.ts';

const w = syntheticWorkload({ packages: 6, filesPerPackage: 10, requests: 6 });

describe('output document', () => {
  test('has the documented shape', async () => {
    const g = await graphFromEvents(w.events, { poi: 'ip:127.0.0.1:9999' });
    expect(Object.keys(g).sort()).toEqual(['direction', 'edges', 'nodes', 'poi', 'stats', 'summary', 'truncated']);
    for (const n of g.nodes) {
      expect(['process', 'file', 'endpoint']).toContain(n.kind);
      expect(typeof n.id).toBe('string');
      expect(typeof n.label).toBe('string');
    }
    const ids = new Set(g.nodes.map((n) => n.id));
    for (const e of g.edges) {
      expect(ids.has(e.source)).toBe(true);
      expect(ids.has(e.target)).toBe(true);
      expect(e.count).toBeGreaterThan(0);
      expect(Date.parse(e.first)).toBeLessThanOrEqual(Date.parse(e.last));
    }
    expect(Object.keys(g.stats).sort()).toEqual(['edges', 'edges_before', 'events', 'nodes', 'nodes_before', 'reduction']);
    expect(g.stats.nodes).toBe(g.nodes.length);
    expect(g.stats.edges).toBe(g.edges.length);
  });

  test('without reduction there is one edge per observed step and before equals after', async () => {
    const g = await graphFromEvents(w.events, { poi: 'ip:127.0.0.1:9999', reduce: false });
    expect(g.stats.edges).toBe(g.stats.edges_before);
    expect(g.stats.nodes).toBe(g.stats.nodes_before);
    expect(g.edges.every((e) => e.count === 1)).toBe(true);
    expect(g.stats.reduction).toBeUndefined();
  });

  test('is deterministic', async () => {
    const a = await graphFromEvents(w.events, { poi: 'file:/tmp/.x.sh', direction: 'both' });
    const shuffled = [...w.events].reverse();
    const b = await graphFromEvents(shuffled, { poi: 'file:/tmp/.x.sh', direction: 'both' });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe('attack summary', () => {
  test('tells the chain in order, in plain words, with techniques', async () => {
    const g = await graphFromEvents(w.events, { poi: 'file:/tmp/.x.sh', direction: 'both' });
    const texts = g.summary.map((l) => l.text);
    const order = [
      /^curl\[\d+\] connected to 127\.0\.0\.1:8000/,
      /^curl\[\d+\] wrote \/tmp\/\.x\.sh.*ingress-tool-transfer.*T1105/,
      /^chmod\[\d+\] changed the mode of \/tmp\/\.x\.sh to 0755/,
      /^bash\[\d+\] started \.x\.sh\[\d+\]/,
      /^\.x\.sh\[\d+\] ran the script \/tmp\/\.x\.sh.*T1059\.004/,
      /^\.x\.sh\[\d+\] read \/etc\/shadow.*T1003\.008/,
      /^\.x\.sh\[\d+\] connected to 127\.0\.0\.1:9999 \(sent 1\.4 KiB\).*T1041/,
      /^\.x\.sh\[\d+\] started rm\[\d+\]/,
      /^rm\[\d+\] deleted \/tmp\/\.x\.sh.*T1070\.004/,
    ];
    let at = -1;
    for (const re of order) {
      const i = texts.findIndex((t) => re.test(t));
      expect({ re: String(re), found: i >= 0 }).toEqual({ re: String(re), found: true });
      expect(i).toBeGreaterThan(at);
      at = i;
    }
    const times = g.summary.map((l) => Date.parse(l.at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    for (const l of g.summary) expect(g.edges.some((e) => e.id === l.edge)).toBe(true);
  });

  test('with nothing flagged it lists the graph', async () => {
    const g = await graphFromEvents(w.events, { poi: 'ip:10.0.0.7', direction: 'forward', rules: false });
    expect(g.summary.length).toBeGreaterThan(0);
    expect(g.edges.some((e) => e.flags)).toBe(false);
  });
});

describe('DOT', () => {
  test('serializes every node and edge, flags in red, and escapes labels', async () => {
    const g = await graphFromEvents(w.events, { poi: 'ip:127.0.0.1:9999' });
    const dot = toDot(g);
    expect(dot.startsWith('digraph provenance {')).toBe(true);
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    for (const n of g.nodes) expect(dot).toContain(`${quote(n.id)} [`);
    expect(dot.split('\n').filter((l) => l.includes(' -> ')).length).toBe(g.edges.length + g.edges.filter((e) => e.by).length);
    expect(dot).toContain('color="red"');
    expect(quote('a "b" \\ c\nd')).toBe('"a \\"b\\" \\\\ c\\nd"');
    expect(toDot(g)).toBe(dot);
  });
});

describe('points of interest', () => {
  test('parse and print', () => {
    for (const s of ['process:abc-1', 'file:/tmp/x y', 'ip:10.0.0.1', 'ip:10.0.0.1:443', 'ip:[::1]:80', 'ip:fe80::1', 'event:host-1:42']) {
      expect(poiToString(parsePoi(s))).toBe(s);
    }
    expect(parsePoi('ip:[::1]:80')).toEqual({ kind: 'endpoint', ip: '::1', port: 80 });
    expect(() => parsePoi('file:relative')).toThrow();
    expect(() => parsePoi('host:x')).toThrow();
    expect(() => parsePoi('ip:1.2.3.4:99999')).toThrow();
  });
});
