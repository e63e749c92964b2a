import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import { ecsHost, type HostIdentity } from '../model/host.ts';
import { readCaptureFile, type CaptureFileResult } from '../pcap/capture-file.ts';
import { dnsDocument, flowDocument, type EcsContext } from '../pcap/ecs.ts';
import { PcapHandle, type CaptureStats } from '../pcap/libpcap.ts';
import { isSupportedLinkType, linkTypeName } from '../pcap/link-types.ts';
import { PcapPipeline } from '../pcap/pipeline.ts';

/**
 * Packets as documents: libpcap (live) or a capture file → decode → flows and DNS → ECS flow and dns documents.
 * `onFlow` lets the caller enrich a flow document (process attribution) before it is emitted.
 */
export class PacketCapture {
  readonly pipeline: PcapPipeline;
  private handle: PcapHandle | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly context: EcsContext;

  constructor(
    private readonly config: Config,
    host: HostIdentity,
    emit: (doc: EcsEvent) => void,
    onFlow: (doc: EcsEvent) => void = () => {},
  ) {
    const pcap = config.pcap_config;
    this.context = { host: ecsHost(host), namespace: config.es_config.namespace };
    this.pipeline = new PcapPipeline({
      flowTimeoutSec: pcap.flow_timeout,
      flushIntervalSec: pcap.flush_interval,
      dnsCacheTtlSec: pcap.dns_cache_ttl,
      maxFlows: pcap.max_flows,
      dnsQueryEvents: pcap.dns_query_events,
      onFlow: (report) => {
        const doc = flowDocument(report, this.handle ? { ...this.context, capture: this.handle.stats() } : this.context);
        onFlow(doc);
        emit(doc);
      },
      onDns: (event) => emit(dnsDocument(event, this.context)),
    });
  }

  /** Live capture on the configured interface with the configured filter compiled into the kernel. */
  startLive(log: Logger): void {
    const pcap = this.config.pcap_config;
    this.handle = PcapHandle.openLive({ interface: pcap.interface, filter: pcap.bpf_filter, snapLen: pcap.snaplen, bufferSize: pcap.buffer_mb * 1024 * 1024 });
    log.info({ interface: pcap.interface, filter: pcap.bpf_filter }, 'packet capture attached');
    this.running = this.handle.run(this.pipeline.handle, { signal: this.abort.signal, onIdle: () => this.pipeline.tick(Date.now() / 1000) });
  }

  /** One warning when the live interface's link type is one the decoder does not know (its packets give no events). */
  warnIfUndecodable(log: Logger): void {
    const type = this.handle?.linkType;
    if (type !== undefined && !isSupportedLinkType(type)) {
      log.warn({ interface: this.config.pcap_config.interface, link_type: linkTypeName(type) }, `interface ${this.config.pcap_config.interface} has link type ${linkTypeName(type)}, which provmon cannot decode: its packets are counted but give no flows`);
    }
  }

  /** Reads a pcap or pcapng file through the same pipeline and reports every flow still open at its end. */
  readFile(path: string): CaptureFileResult {
    const result = readCaptureFile(path, this.pipeline.handle);
    this.pipeline.finish('end_of_capture');
    return result;
  }

  captureStats(): CaptureStats | undefined {
    return this.handle?.stats();
  }

  /** Stops the live capture and reports every open flow (final reports), so nothing in memory is lost. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    // libpcap hands packets over in blocks retired by a timeout (100 ms): keep reading a little longer so the
    // packets already captured in the kernel are not lost at shutdown.
    if (this.handle) {
      const deadline = Date.now() + 250;
      while (Date.now() < deadline) {
        if (this.handle.dispatch(4096, this.pipeline.handle) === 0) await Bun.sleep(20);
      }
    }
    this.pipeline.finish('shutdown');
    this.handle?.close();
  }
}
