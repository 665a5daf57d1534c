// Exponentially weighted moving average whose weight depends on the time since the last sample.
//
// alpha = max(minAlpha, 1 - exp(-dt / tauMs)). A site that answers many requests a second is tracked
// with the per-sample floor (minAlpha 0.1: the last ~10 samples carry two thirds of the weight), so one
// slow answer moves the estimate by a tenth. A site sampled after a long silence gets a weight near 1:
// what it did a quarter of an hour ago says little about now (deploys, other tenants, time of day).

export interface EwmaOptions {
  tauMs: number;
  minAlpha: number;
}

export const DEFAULT_EWMA: EwmaOptions = { tauMs: 60_000, minAlpha: 0.1 };

export class Ewma {
  private v: number | null = null;
  private at = 0;
  private n = 0;

  constructor(private readonly options: EwmaOptions = DEFAULT_EWMA) {}

  get value(): number | null {
    return this.v;
  }

  get samples(): number {
    return this.n;
  }

  add(sample: number, now: number): void {
    if (this.v === null) {
      this.v = sample;
    } else {
      const alpha = Math.max(this.options.minAlpha, 1 - Math.exp(-Math.max(0, now - this.at) / this.options.tauMs));
      this.v += alpha * (sample - this.v);
    }
    this.at = now;
    this.n++;
  }
}
