/**
 * Record type names for the numeric types the kernel prints when no auditd is running (syslog, dmesg).
 * Numbers from linux/audit.h and libaudit.h; auditd itself writes the names.
 */
const NAMES: Record<number, string> = {
  1100: 'USER_AUTH', 1101: 'USER_ACCT', 1103: 'CRED_ACQ', 1104: 'CRED_DISP', 1105: 'USER_START', 1106: 'USER_END',
  1107: 'USER_AVC', 1108: 'USER_CHAUTHTOK', 1109: 'USER_ERR', 1110: 'CRED_REFR', 1112: 'USER_LOGIN', 1113: 'USER_LOGOUT',
  1123: 'USER_CMD', 1124: 'USER_TTY', 1130: 'SERVICE_START', 1131: 'SERVICE_STOP', 1200: 'DAEMON_START',
  1203: 'DAEMON_END', 1204: 'DAEMON_ABORT', 1205: 'DAEMON_CONFIG', 1300: 'SYSCALL', 1302: 'PATH', 1303: 'IPC',
  1304: 'SOCKETCALL', 1305: 'CONFIG_CHANGE', 1306: 'SOCKADDR', 1307: 'CWD', 1309: 'EXECVE', 1311: 'IPC_SET_PERM',
  1312: 'MQ_OPEN', 1317: 'FD_PAIR', 1318: 'OBJ_PID', 1319: 'TTY', 1320: 'EOE', 1321: 'BPRM_FCAPS', 1322: 'CAPSET',
  1323: 'MMAP', 1324: 'NETFILTER_PKT', 1325: 'NETFILTER_CFG', 1326: 'SECCOMP', 1327: 'PROCTITLE', 1328: 'FEATURE_CHANGE',
  1329: 'REPLACE', 1330: 'KERN_MODULE', 1331: 'FANOTIFY', 1332: 'TIME_INJOFFSET', 1333: 'TIME_ADJNTPVAL', 1334: 'BPF',
  1335: 'EVENT_LISTENER', 1336: 'URINGOP', 1337: 'OPENAT2', 1400: 'AVC', 1401: 'SELINUX_ERR', 1404: 'MAC_STATUS',
  1405: 'MAC_CONFIG_CHANGE', 1700: 'ANOM_PROMISCUOUS', 1701: 'ANOM_ABEND', 1702: 'ANOM_LINK', 1703: 'ANOM_CREAT',
};

/** The record type as auditd names it; '' for a token that is no type. */
export function typeName(token: string): string {
  if (/^\d+$/.test(token)) return NAMES[Number(token)] ?? `UNKNOWN[${token}]`;
  return /^[A-Z][A-Z0-9_]*(\[\d+\])?$/.test(token) ? token : '';
}
