/**
 * The activity generator's actions: each runs real programs (so a sensor sees real syscalls) and says what it
 * touched. Safety rules every action keeps: it writes only inside the sandbox directory (persistence goes into
 * sandbox copies of /etc/crontab and /etc/systemd/system), reads system files without changing them, talks only to
 * 127.0.0.1 (listeners the generator owns, or closed ports), and leaves no process behind.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Category = 'normal' | 'suspicious';

export interface ActionResult {
  /** pids of every process the action started */
  pids: number[];
  files: string[];
  /** ip:port */
  endpoints: string[];
  /** false when a program failed (e.g. reading /etc/shadow as a user): the attempt is still the activity */
  ok: boolean;
}

export interface ActionContext {
  sandbox: string;
  /** a loopback HTTP listener of the generator that accepts anything */
  httpPort: number;
  /** environment for the programs: a plain PATH, nothing of the caller's secrets */
  env: Record<string, string>;
}

export interface Action {
  name: string;
  category: Category;
  /** MITRE ATT&CK technique id */
  technique?: string;
  run(ctx: ActionContext): Promise<ActionResult>;
}

async function exec(ctx: ActionContext, argv: string[]): Promise<{ pid: number; ok: boolean }> {
  const p = Bun.spawn(argv, { cwd: ctx.sandbox, env: ctx.env, stdout: 'ignore', stderr: 'ignore', stdin: 'ignore' });
  const code = await p.exited;
  return { pid: p.pid, ok: code === 0 };
}

/** Runs the programs one after the other and reports them as one action. */
async function programs(ctx: ActionContext, argvs: string[][], files: string[] = [], endpoints: string[] = []): Promise<ActionResult> {
  const pids: number[] = [];
  let ok = true;
  for (const argv of argvs) {
    const r = await exec(ctx, argv);
    pids.push(r.pid);
    ok &&= r.ok;
  }
  return { pids, files, endpoints, ok };
}

/** A few closed loopback ports above the generator's listener, for the scan. */
function scanPorts(ctx: ActionContext): number[] {
  return Array.from({ length: 8 }, (_, i) => ((ctx.httpPort + 101 + i * 7) % 50000) + 10000);
}

export const ACTIONS: Action[] = [
  {
    name: 'file_io',
    category: 'normal',
    run: (ctx) => {
      const a = join(ctx.sandbox, 'notes.txt');
      const b = join(ctx.sandbox, 'notes.bak');
      return programs(ctx, [['/bin/sh', '-c', `echo "meeting at 10" > ${a} && cp ${a} ${b} && rm ${b}`]], [a, b]);
    },
  },
  {
    name: 'process_tree',
    category: 'normal',
    run: (ctx) => programs(ctx, [['/bin/sh', '-c', '/bin/sh -c "/bin/true"; /bin/ls / > /dev/null']]),
  },
  {
    name: 'local_http',
    category: 'normal',
    run: (ctx) => programs(ctx, [['/usr/bin/curl', '-s', '-o', '/dev/null', `http://127.0.0.1:${ctx.httpPort}/index.html`]], [], [`127.0.0.1:${ctx.httpPort}`]),
  },
  {
    name: 'system_information',
    category: 'normal',
    run: (ctx) => programs(ctx, [['/bin/uname', '-a'], ['/usr/bin/id'], ['/bin/df', '-h']]),
  },
  {
    name: 'reconnaissance',
    category: 'suspicious',
    technique: 'T1082',
    run: (ctx) => programs(ctx, [['/bin/sh', '-c', 'cat /etc/os-release /etc/passwd > /dev/null; id; uname -r; ls /home > /dev/null']], ['/etc/os-release', '/etc/passwd']),
  },
  {
    name: 'credential_access',
    category: 'suspicious',
    technique: 'T1003.008',
    // reading is all it does; as a user the open fails (EACCES), which a sensor records too
    run: (ctx) => programs(ctx, [['/bin/cat', '/etc/shadow']], ['/etc/shadow']),
  },
  {
    name: 'persistence_cron',
    category: 'suspicious',
    technique: 'T1053.003',
    run: (ctx) => {
      const etc = join(ctx.sandbox, 'etc');
      mkdirSync(etc, { recursive: true });
      const crontab = join(etc, 'crontab');
      if (existsSync('/etc/crontab')) copyFileSync('/etc/crontab', crontab);
      else writeFileSync(crontab, '');
      return programs(ctx, [['/bin/sh', '-c', `echo '* * * * * root ${join(ctx.sandbox, 'beacon.sh')}' >> ${crontab}`]], [crontab]);
    },
  },
  {
    name: 'persistence_systemd',
    category: 'suspicious',
    technique: 'T1543.002',
    run: (ctx) => {
      const dir = join(ctx.sandbox, 'etc', 'systemd', 'system');
      mkdirSync(dir, { recursive: true });
      const unit = join(dir, 'update-helper.service');
      return programs(ctx, [['/bin/sh', '-c', `printf '[Service]\\nExecStart=${join(ctx.sandbox, 'beacon.sh')}\\n' > ${unit}`]], [unit]);
    },
  },
  {
    name: 'exfiltration',
    category: 'suspicious',
    technique: 'T1048',
    run: (ctx) => {
      const loot = join(ctx.sandbox, 'loot.txt');
      writeFileSync(loot, 'user=alice\npassword=not-a-real-secret\n');
      return programs(ctx, [['/usr/bin/curl', '-s', '-o', '/dev/null', '--data-binary', `@${loot}`, `http://127.0.0.1:${ctx.httpPort}/upload`]], [loot], [`127.0.0.1:${ctx.httpPort}`]);
    },
  },
  {
    name: 'renamed_process',
    category: 'suspicious',
    technique: 'T1036.003',
    run: (ctx) => {
      const fake = join(ctx.sandbox, 'kworker-helper');
      copyFileSync('/bin/sleep', fake);
      return programs(ctx, [['/bin/chmod', '755', fake], [fake, '0.1']], [fake]);
    },
  },
  {
    name: 'self_deleting_script',
    category: 'suspicious',
    technique: 'T1070.004',
    run: (ctx) => {
      const script = join(ctx.sandbox, 'cleanup.sh');
      writeFileSync(script, '#!/bin/sh\nid > /dev/null\nrm -f -- "$0"\n', { mode: 0o700 });
      return programs(ctx, [['/bin/sh', script]], [script]);
    },
  },
  {
    name: 'timestomp',
    category: 'suspicious',
    technique: 'T1070.006',
    run: (ctx) => {
      const file = join(ctx.sandbox, 'stomped.bin');
      writeFileSync(file, 'x');
      return programs(ctx, [['/usr/bin/touch', '-d', '2019-01-01 00:00:00', file]], [file]);
    },
  },
  {
    name: 'port_scan',
    category: 'suspicious',
    technique: 'T1046',
    run: (ctx) => {
      const ports = scanPorts(ctx);
      // bash's /dev/tcp: one connect per port, refused (nothing listens there)
      const script = ports.map((p) => `(exec 3<>/dev/tcp/127.0.0.1/${p}) 2>/dev/null`).join('; ');
      return programs(ctx, [['/bin/bash', '-c', `${script}; true`]], [], ports.map((p) => `127.0.0.1:${p}`));
    },
  },
];
