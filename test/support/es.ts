/**
 * Elasticsearch nodes for tests: at most one node of each kind per test process, started lazily on
 * first use and stopped by the global afterAll in test/support/global.ts.
 *
 *   const node = await testNode('open');    // security off
 *   const node = await testNode('secure');  // security on, basic auth as node.username / node.password
 *
 * PROVMON_TEST_ES_URL=http://127.0.0.1:9200 makes testNode('open') use that cluster instead of
 * starting one (credentials may go in the URL: http://user:pass@host:port).
 *
 * A node start takes ~10 s (more on a loaded machine), beyond bun's 5 s default test timeout. Bun
 * 1.4.5 does not read `timeout` from bunfig.toml, so a test file that uses testNode must either be
 * run with `bun test --timeout=180000` or call `setDefaultTimeout(180_000)` at its top.
 */
import type { Client, ClientOptions } from '@elastic/elasticsearch';
import { ProvmonError } from '../../sensor/src/errors.ts';
import { killNodeSync, listStates, reapOrphanedNodes, startNode, type EsNode, type NodeState } from '../../scripts/es-node/node.ts';

export type { EsNode } from '../../scripts/es-node/node.ts';
export type TestNodeKind = 'open' | 'secure';

const nodes = new Map<TestNodeKind, Promise<EsNode>>();
let reaped: Promise<void> | null = null;

function externalNode(raw: string): EsNode {
  const u = new URL(raw);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  if (username && username !== 'elastic') {
    throw new ProvmonError(`PROVMON_TEST_ES_URL names user ${username}; test nodes authenticate as elastic`, {
      hint: 'use http://elastic:<password>@host:port, or no credentials for a cluster without security',
    });
  }
  u.username = '';
  u.password = '';
  const url = u.toString().replace(/\/$/, '');
  return {
    name: 'external',
    url,
    security: username !== '',
    ...(username === 'elastic' ? { username: 'elastic' as const } : {}),
    ...(password ? { password } : {}),
    pid: 0,
    dir: '',
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    logFile: '',
    stateFile: '',
    stop: async () => undefined, // not ours to stop
  };
}

/** The memoised node of this kind (a failed start is memoised too, so every test reports it at once). */
export function testNode(kind: TestNodeKind): Promise<EsNode> {
  const have = nodes.get(kind);
  if (have) return have;
  const external = kind === 'open' ? process.env.PROVMON_TEST_ES_URL : undefined;
  const p = external
    ? (async () => externalNode(external))()
    : (async () => {
        reaped ??= reapOrphanedNodes(); // nodes left behind by SIGKILLed test runs
        await reaped;
        return startNode({ name: `test-${kind}-${process.pid}`, security: kind === 'secure', ownerPid: process.pid });
      })();
  nodes.set(kind, p);
  return p;
}

/**
 * An official client for a test node, with the node's credentials unless overridden.
 * It uses HttpConnection: the client's default UndiciConnection does not work in Bun 1.4.5 (Bun
 * substitutes its own `undici` module, whose Pool returns no response headers: "undefined is not
 * an object (evaluating 'response.headers')", and has no close()).
 * The client is loaded lazily so that the test preload stays cheap for tests that never use it.
 */
export function testClient(node: EsNode, opts: { password?: string; anonymous?: boolean } & Partial<ClientOptions> = {}): Client {
  const { Client: EsClient, HttpConnection } = require('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch');
  const { password, anonymous, ...rest } = opts;
  const useAuth = node.security && !anonymous;
  return new EsClient({
    node: node.url,
    Connection: HttpConnection,
    ...(useAuth ? { auth: { username: node.username ?? 'elastic', password: password ?? node.password ?? '' } } : {}),
    ...rest,
  });
}

/** Stops every node this process started (awaits graceful shutdown, ~1 s each). */
export async function stopAllTestNodes(): Promise<void> {
  const pending = [...nodes.values()];
  nodes.clear();
  await Promise.all(
    pending.map(async (p) => {
      try {
        await (await p).stop();
      } catch {
        /* a node that failed to start has nothing to stop */
      }
    }),
  );
}

/** Nodes started by this process, found through their state files (works even mid-start). */
function ownedStates(): NodeState[] {
  return listStates().filter((s) => s.ownerPid === process.pid);
}

/** Synchronous last resort for 'exit' and second-signal paths: SIGKILL and remove directories. */
export function killAllTestNodesSync(): void {
  nodes.clear();
  for (const s of ownedStates()) killNodeSync(s);
}

/** For signal handlers: graceful stop with a short bound, then SIGKILL whatever is left. */
export async function stopAllTestNodesQuickly(timeoutMs = 10_000): Promise<void> {
  await Promise.race([stopAllTestNodes(), new Promise((r) => setTimeout(r, timeoutMs))]);
  killAllTestNodesSync();
}
