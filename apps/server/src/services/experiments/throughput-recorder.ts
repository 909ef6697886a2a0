import type { ExperimentThroughput, ThroughputPoint } from "@thinkscope/protocol";

/** Points kept; past this, every other one is dropped (the curve keeps its shape, halved in detail). */
const MAX_POINTS = 512;

/**
 * Requests in flight over one runner session, to show that the runner keeps
 * the backend busy: every change is a point (changes within the same
 * millisecond collapse into one, and a point repeating the previous count is
 * left out), and the time-weighted mean is kept exactly.
 */
export class ThroughputRecorder {
  private readonly started = performance.now();
  private points: ThroughputPoint[] = [{ t: 0, inFlight: 0 }];
  private current = 0;
  private peak = 0;
  private weighted = 0;
  private lastChange = 0;

  constructor(private readonly concurrency: number) {}

  get inFlight(): number {
    return this.current;
  }

  change(delta: number): void {
    const t = Math.round(performance.now() - this.started);
    this.weighted += this.current * (t - this.lastChange);
    this.lastChange = t;
    this.current += delta;
    this.peak = Math.max(this.peak, this.current);
    const last = this.points.at(-1)!;
    if (last.t === t) {
      last.inFlight = this.current;
      // A change undone within the millisecond leaves a point that says nothing new.
      if (this.points.at(-2)?.inFlight === last.inFlight) this.points.pop();
    } else if (last.inFlight !== this.current) this.points.push({ t, inFlight: this.current });
    if (this.points.length > MAX_POINTS) {
      this.points = this.points.filter((_, i) => i % 2 === 0 || i === this.points.length - 1);
    }
  }

  snapshot(): ExperimentThroughput {
    const t = performance.now() - this.started;
    const weighted = this.weighted + this.current * (t - this.lastChange);
    return {
      concurrency: this.concurrency,
      peakInFlight: this.peak,
      meanInFlight: t > 0 ? weighted / t : 0,
      points: this.points.map((p) => ({ ...p })),
    };
  }
}
