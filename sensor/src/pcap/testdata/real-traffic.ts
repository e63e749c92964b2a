/**
 * Real traffic for tests, captured by dumpcap. Everything runs inside a network namespace created
 * for the run, so the capture holds only this traffic (the shared machine's own loopback chatter
 * stays out) and nothing outside is touched except /etc/netns/<ns>/resolv.conf, which `ip netns
 * exec` bind-mounts over /etc/resolv.conf so that curl resolves names through the test's dnsmasq.
 *
 * Servers are Debian's: dnsmasq (DNS over UDP and TCP, IPv4 and IPv6) and python3 -m http.server.
 * Clients are dig, curl, ping and bash's /dev/udp. Needs root (namespaces, capture).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DNS4 = '127.0.53.1';
export const DNS6 = 'fd00:53::1';
export const WEB4 = '127.0.80.1';
export const WEB6 = 'fd00:80::1';
export const WEB_PORT = 8080;

/** What the DNS server answers, so tests can check answers without trusting our parser. */
export const ZONE = {
  'web.provmon.test': { A: [WEB4] },
  'web6.provmon.test': { AAAA: [WEB6] },
  'alias.provmon.test': { CNAME: 'web.provmon.test' },
  'provmon.test': { MX: '10 mail.provmon.test', TXT: ['v=spf1 -all', 'second string'] },
  '_http._tcp.provmon.test': { SRV: `0 5 ${WEB_PORT} web.provmon.test` },
};

export interface CaptureSpec {
  /** dumpcap interface arguments, e.g. ['-i', 'lo'] or ['-i', 'any', '-y', 'LINUX_SLL2'] */
  interfaceArgs: string[];
  /** output path; pcapng unless `pcap` is true */
  outFile: string;
  pcap?: boolean;
  /** size of the file fetched over HTTP (multi-segment TCP) */
  blobBytes?: number;
}

async function run(cmd: string[], opts: { timeoutMs?: number; allowFail?: boolean } = {}): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' });
  const timer = setTimeout(() => proc.kill(), opts.timeoutMs ?? 15000);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0 && !opts.allowFail) throw new Error(`${cmd.join(' ')} exited ${code}: ${err.trim()}`);
  return out;
}

/** Start a long-running process and resolve once `ready` appears on stderr (or stdout). */
async function startDaemon(cmd: string[], ready: RegExp, timeoutMs = 10000): Promise<ReturnType<typeof Bun.spawn>> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' });
  let seen = '';
  const waitFor = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let found = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
      if (!found && ready.test(seen)) {
        found = true;
        // keep draining in the background so the pipe never fills
        void (async () => {
          for (;;) if ((await reader.read()).done) break;
        })();
        return;
      }
    }
    throw new Error(`${cmd.join(' ')} exited before it was ready: ${seen.trim()}`);
  };
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${cmd[cmd.length - 1]} not ready after ${timeoutMs} ms: ${seen.trim()}`)), timeoutMs));
  try {
    await Promise.race([Promise.any([waitFor(proc.stderr as ReadableStream<Uint8Array>), waitFor(proc.stdout as ReadableStream<Uint8Array>)]), timeout]);
  } catch (error) {
    proc.kill();
    throw error;
  }
  return proc;
}

export class TrafficNamespace {
  readonly name = `pmtest-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  private readonly daemons: ReturnType<typeof Bun.spawn>[] = [];
  private readonly webRoot = mkdtempSync(join(tmpdir(), 'provmon-web-'));

  exec(cmd: string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...cmd];
  }

  async setUp(blobBytes: number): Promise<void> {
    await run(['ip', 'netns', 'add', this.name]);
    mkdirSync(`/etc/netns/${this.name}`, { recursive: true });
    writeFileSync(`/etc/netns/${this.name}/resolv.conf`, `nameserver ${DNS4}\n`);
    // Ethernet-sized MTU, so TCP negotiates an Ethernet MSS. Captures still show the kernel's GSO
    // super-frames (several MSS in one frame), exactly as tcpdump does on a host with offloads.
    await run(['ip', '-n', this.name, 'link', 'set', 'lo', 'mtu', '1500', 'up']);
    await run(['ip', '-n', this.name, 'addr', 'add', `${DNS6}/128`, 'dev', 'lo', 'nodad']);
    await run(['ip', '-n', this.name, 'addr', 'add', `${WEB6}/128`, 'dev', 'lo', 'nodad']);
    writeFileSync(join(this.webRoot, 'index.html'), '<html><body>provmon</body></html>\n');
    const blob = new Uint8Array(blobBytes);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 131) & 0xff;
    writeFileSync(join(this.webRoot, 'blob.bin'), blob);
    this.daemons.push(
      await startDaemon(
        this.exec([
          'dnsmasq',
          '--no-daemon',
          '--conf-file=/dev/null',
          '--no-resolv',
          '--no-hosts',
          '--bind-interfaces',
          `--listen-address=${DNS4}`,
          `--listen-address=${DNS6}`,
          '--port=53',
          '--pid-file=',
          '--local=/provmon.test/',
          `--host-record=web.provmon.test,${WEB4}`,
          `--host-record=web6.provmon.test,${WEB6}`,
          '--cname=alias.provmon.test,web.provmon.test',
          '--mx-host=provmon.test,mail.provmon.test,10',
          // no shell here: quotes would become part of the strings
          '--txt-record=provmon.test,v=spf1 -all,second string',
          `--srv-host=_http._tcp.provmon.test,web.provmon.test,${WEB_PORT},0,5`,
          '--log-facility=-',
        ]),
        /started, version/,
      ),
    );
    for (const bind of [WEB4, WEB6]) {
      this.daemons.push(
        await startDaemon(this.exec(['/usr/bin/python3', '-u', '-m', 'http.server', String(WEB_PORT), '--bind', bind, '--directory', this.webRoot]), /Serving HTTP/),
      );
    }
  }

  /** The scripted client traffic. Every step is a real client talking to a real server. */
  async generate(): Promise<void> {
    const dig = (...args: string[]) => run(this.exec(['dig', '+time=2', '+tries=1', ...args]));
    await dig(`@${DNS4}`, 'web.provmon.test', 'A');
    await dig(`@${DNS4}`, 'web6.provmon.test', 'AAAA');
    await dig(`@${DNS4}`, 'alias.provmon.test', 'A');
    await dig(`@${DNS4}`, 'provmon.test', 'MX');
    await dig(`@${DNS4}`, 'provmon.test', 'TXT');
    await dig(`@${DNS4}`, '_http._tcp.provmon.test', 'SRV');
    await dig(`@${DNS4}`, '-x', WEB4);
    await dig(`@${DNS4}`, 'nothere.provmon.test', 'A');
    await dig('+tcp', `@${DNS4}`, 'web.provmon.test', 'A');
    await dig('+tcp', `@${DNS4}`, 'provmon.test', 'TXT');
    await dig(`@${DNS6}`, 'web6.provmon.test', 'AAAA');
    // a resolver that is not there: the query is refused by ICMP and never answered
    await run(this.exec(['dig', '+time=1', '+tries=1', '@127.0.53.9', 'lost.provmon.test', 'A']), { allowFail: true });
    // curl resolves through glibc -> /etc/netns/<ns>/resolv.conf -> dnsmasq: real lookups before real flows
    const curl = (...args: string[]) => run(this.exec(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', ...args]), { allowFail: true });
    await curl(`http://web.provmon.test:${WEB_PORT}/`);
    await curl(`http://web.provmon.test:${WEB_PORT}/blob.bin`);
    await curl('-6', `http://web6.provmon.test:${WEB_PORT}/`);
    await curl(`http://${WEB4}:9/`); // refused: SYN answered by RST
    await run(this.exec(['bash', '-c', `echo probe > /dev/udp/${WEB4}/9999`])); // no listener: ICMP port unreachable
    await run(this.exec(['bash', '-c', `echo probe > /dev/udp/${WEB6}/9999`])); // ICMPv6 port unreachable
    await run(this.exec(['ping', '-c', '2', '-i', '0.2', '-W', '1', WEB4]), { allowFail: true });
    await run(this.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', WEB6]), { allowFail: true });
  }

  async capture(spec: CaptureSpec, during: () => Promise<void>): Promise<void> {
    const args = ['dumpcap', '-q', ...spec.interfaceArgs, '-w', spec.outFile];
    if (spec.pcap) args.push('-P');
    // dumpcap reports "File: ..." once the capture file is open and packets flow
    const dumpcap = await startDaemon(this.exec(args), /File: /);
    try {
      await during();
      await Bun.sleep(300); // let the last packets reach the ring before stopping
    } finally {
      dumpcap.kill('SIGINT');
      await dumpcap.exited;
    }
  }

  async tearDown(): Promise<void> {
    for (const d of this.daemons) d.kill();
    await Promise.all(this.daemons.map((d) => d.exited));
    await run(['ip', 'netns', 'del', this.name], { allowFail: true });
    rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
    rmSync(this.webRoot, { recursive: true, force: true });
  }
}

/** Capture the scripted traffic once per spec (each capture sees the full script). */
export async function captureRealTraffic(specs: CaptureSpec[]): Promise<void> {
  const ns = new TrafficNamespace();
  try {
    await ns.setUp(specs[0]?.blobBytes ?? 64 * 1024);
    for (const spec of specs) await ns.capture(spec, () => ns.generate());
  } finally {
    await ns.tearDown();
  }
}
