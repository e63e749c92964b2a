/**
 * Reads what a systemd service unit says about how its command runs (user, capabilities, working directory, umask),
 * and turns it into the setpriv command line that runs the command the same way where systemd is not PID 1 (CI,
 * containers). Test support for packaging/deb.root.test.ts: the test reads the installed unit, not a copy of it.
 */
export interface ServiceUnit {
  execStart: string[];
  user: string | undefined;
  group: string | undefined;
  /** AmbientCapabilities=, which the unit also uses as its bounding set */
  capabilities: string[];
  workingDirectory: string | undefined;
  umask: string | undefined;
  noNewPrivileges: boolean;
}

/** [Service] keys; a key given twice keeps the last value (enough for provmon's units, which repeat none). */
export function parseUnit(text: string): ServiceUnit {
  const service = new Map<string, string>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (section === 'Service' && eq > 0) service.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const exec = service.get('ExecStart');
  if (!exec) throw new Error('the unit has no ExecStart=');
  return {
    // no quoting in provmon's units; a leading -, @, : or + prefix changes how systemd runs it, not what runs
    execStart: exec.replace(/^[-@:+!]+/, '').split(/\s+/),
    user: service.get('User'),
    group: service.get('Group'),
    capabilities: (service.get('AmbientCapabilities') ?? '').split(/\s+/).filter(Boolean),
    workingDirectory: service.get('WorkingDirectory'),
    umask: service.get('UMask'),
    noNewPrivileges: service.get('NoNewPrivileges') === 'yes',
  };
}

/** setpriv: the unit's user and group, its capabilities as inheritable, ambient and bounding sets, its umask. */
export function setprivCommand(unit: ServiceUnit): string[] {
  const caps = unit.capabilities.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',');
  const set = caps ? `-all,${caps}` : '-all';
  return [
    'setpriv',
    ...(unit.user ? [`--reuid=${unit.user}`, `--regid=${unit.group ?? unit.user}`, '--init-groups'] : []),
    `--inh-caps=${set}`,
    ...(caps ? [`--ambient-caps=${set}`] : []),
    `--bounding-set=${set}`,
    ...(unit.noNewPrivileges ? ['--no-new-privs'] : []),
    '--',
    '/bin/sh',
    '-c',
    'umask "$0" && exec "$@"',
    unit.umask ?? '0022',
    ...unit.execStart,
  ];
}
