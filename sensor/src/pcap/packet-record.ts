/**
 * One captured frame as a reader hands it to the pipeline. Readers reuse a single record and
 * overwrite it for every packet (the hot path allocates nothing), so a consumer must copy anything
 * it keeps beyond the callback.
 */
export class PacketRecord {
  /** Buffer holding the frame; `offset`..`offset + capLen` is the frame. Other bytes belong to other frames. */
  data: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.data.buffer);
  offset = 0;
  /** bytes captured (after the snap length) */
  capLen = 0;
  /** bytes on the wire */
  wireLen = 0;
  tsSec = 0;
  /** 0..999_999_999 */
  tsNsec = 0;
  linkType = 0;
  /** pcapng interface index (0 for pcap and live capture) */
  interfaceId = 0;

  setBuffer(data: Uint8Array): void {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
}
