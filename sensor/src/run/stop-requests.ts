/**
 * How a `provmon run` is asked to stop. The first SIGINT, SIGTERM or SIGHUP (a closed terminal) asks for a
 * graceful stop: capture detaches, the kernel and libpcap are drained, outputs are flushed and a summary is
 * logged. Any further signal only "hurries" the stop: outputs stop waiting for a slow destination and keep what
 * they hold on disk (the Elasticsearch spool) instead. The kernel is drained before any handler can run (the drain
 * is synchronous), so hurrying never costs captured events. Handlers are installed before anything slow starts,
 * so a signal during start-up is answered by a graceful stop right after start-up, never by the default kill.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const satisfies readonly NodeJS.Signals[];

export interface StopState {
  /** What asked for the stop first: a signal name, "duration", "stop requested"; null while running. */
  reason: string | null;
  /** Every signal received, in order. */
  signals: NodeJS.Signals[];
  /** True once a second signal asked outputs to stop waiting. */
  hurried: boolean;
}

export class StopRequests {
  readonly stopped: Promise<string>;
  private resolveStopped: (reason: string) => void = () => {};
  private readonly state: StopState = { reason: null, signals: [], hurried: false };
  private readonly hurryListeners: (() => void)[] = [];
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.state.signals.push(signal);
    if (this.state.reason === null) this.request(signal);
    else this.hurry();
  };
  private installed = false;

  constructor() {
    this.stopped = new Promise<string>((resolve) => (this.resolveStopped = resolve));
  }

  install(): this {
    if (!this.installed) for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
    this.installed = true;
    return this;
  }

  uninstall(): void {
    if (this.installed) for (const s of STOP_SIGNALS) process.off(s, this.onSignal);
    this.installed = false;
  }

  request(reason: string): void {
    if (this.state.reason !== null) return;
    this.state.reason = reason;
    this.resolveStopped(reason);
  }

  hurry(): void {
    if (this.state.hurried) return;
    this.state.hurried = true;
    for (const l of this.hurryListeners.splice(0)) l();
  }

  /** Runs fn when the stop is hurried (at once when it already is). */
  onHurry(fn: () => void): void {
    if (this.state.hurried) fn();
    else this.hurryListeners.push(fn);
  }

  snapshot(): StopState {
    return { ...this.state, signals: [...this.state.signals] };
  }
}
