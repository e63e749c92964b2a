/**
 * Link-layer header types. Files carry LINKTYPE_* values (tcpdump.org/linktypes.html); libpcap's
 * pcap_datalink() returns DLT_* values. They agree for everything here except raw IP, which is
 * DLT_RAW = 12 (14 on OpenBSD) live and LINKTYPE_RAW = 101 in files; the decoder accepts all three.
 */
export const LINKTYPE_NULL = 0; // BSD loopback: 4-byte address family in the writer's byte order
export const LINKTYPE_ETHERNET = 1;
export const DLT_RAW = 12;
export const DLT_RAW_OPENBSD = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108; // OpenBSD loopback: address family in network byte order
export const LINKTYPE_LINUX_SLL = 113; // `-i any` on Linux, libpcap's default
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_NFLOG = 239; // Linux netfilter NFLOG (iptables -j NFLOG, `tcpdump -i nflog:N`)
export const LINKTYPE_LINUX_SLL2 = 276; // `-i any` with the interface index (libpcap >= 1.10)

export const LINK_TYPE_NAMES: Record<number, string> = {
  [LINKTYPE_NULL]: 'NULL',
  [LINKTYPE_ETHERNET]: 'EN10MB',
  [DLT_RAW]: 'RAW',
  [DLT_RAW_OPENBSD]: 'RAW',
  [LINKTYPE_RAW]: 'RAW',
  [LINKTYPE_LOOP]: 'LOOP',
  [LINKTYPE_LINUX_SLL]: 'LINUX_SLL',
  [LINKTYPE_IPV4]: 'IPV4',
  [LINKTYPE_IPV6]: 'IPV6',
  [LINKTYPE_NFLOG]: 'NFLOG',
  [LINKTYPE_LINUX_SLL2]: 'LINUX_SLL2',
};

export function isSupportedLinkType(linkType: number): boolean {
  return LINK_TYPE_NAMES[linkType] !== undefined;
}

export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}
