/**
 * Counters kept by the decoder. Plain numeric fields on one class (not a Map) so the hot path is a
 * monomorphic property increment; the field names are the reason strings reported to the user.
 */

/** Input that breaks a protocol rule. Every one is counted; none throws. */
export class MalformedCounts {
  /** frame shorter than its link-layer header */
  link_truncated = 0;
  vlan_truncated = 0;
  /** more than 8 stacked VLAN tags: almost certainly garbage, stop before it costs us */
  vlan_too_deep = 0;
  /** NFLOG header with a version other than 0, or a TLV whose length runs past the frame */
  nflog_bad_tlv = 0;
  /** IP version nibble disagrees with the ethertype / address family */
  ip_bad_version = 0;
  ipv4_truncated = 0;
  /** IHL below 5 words */
  ipv4_bad_header_length = 0;
  /** total length below the header length */
  ipv4_bad_total_length = 0;
  /** total length larger than the frame on the wire: counted, then clipped and decoded */
  ipv4_length_exceeds_frame = 0;
  /** an option whose length is 0/1 or runs past the header */
  ipv4_bad_option = 0;
  ipv6_truncated = 0;
  ipv6_length_exceeds_frame = 0;
  /** an extension header that runs past the packet */
  ipv6_bad_extension = 0;
  ipv6_too_many_extensions = 0;
  tcp_truncated = 0;
  /** data offset below 5 words or beyond the IP payload */
  tcp_bad_header_length = 0;
  /** an option whose length is 0/1 or runs past the header (the classic parser-hang input) */
  tcp_bad_option = 0;
  udp_truncated = 0;
  /** UDP length below 8 or beyond the IP payload */
  udp_bad_length = 0;
  icmp_truncated = 0;
  sctp_truncated = 0;

  total(): number {
    let sum = 0;
    for (const value of Object.values(this)) sum += value as number;
    return sum;
  }

  /** Only the non-zero reasons, for reports. */
  nonZero(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, value] of Object.entries(this)) if (value !== 0) out[key] = value as number;
    return out;
  }
}

/** What went through the decoder (not errors). */
export class TrafficCounts {
  packets = 0;
  bytes = 0;
  ipv4 = 0;
  ipv6 = 0;
  tcp = 0;
  udp = 0;
  icmp = 0;
  icmpv6 = 0;
  sctp = 0;
  other_transport = 0;
  /** ARP, LLDP, 802.3 LLC, netlink…: valid frames that carry no IP */
  non_ip = 0;
  vlan_tagged = 0;
  /** IPv4 or IPv6 fragments (first and later ones) */
  fragments = 0;
  /** frames cut by the snap length (caplen < wire length): not an error */
  snap_truncated = 0;
  unsupported_link_type = 0;
}

export class DecodeStats {
  readonly traffic = new TrafficCounts();
  readonly malformed = new MalformedCounts();
}
