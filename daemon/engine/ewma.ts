// Exponentially weighted moving average whose weight depends on the time since the last sample.
//
// alpha = max(minAlpha, 1 - exp(-dt / tauMs), 1 / n) for the n-th sample. A site that answers many requests a second is tracked
// with the per-sample floor (minAlpha 0.1: the last ~10 samples carry two thirds of the weight), so one
// slow answer moves the estimate by a tenth. A site sampled after a long silence gets a weight near 1:
// what it did a quarter of an hour ago says little about now (deploys, other tenants, time of day).
// The first samples are averaged with equal weight (1 / n) until the floor takes over: otherwise the
// first one, lucky or not, would weigh as much as the next ten together.
//
// A value with no sample for `staleMs` reads as unknown (the catalog's figure then serves), as the next
// sample would nearly replace it anyway (weight 1 - exp(-5) at 5 tau). Kept, a pessimistic value would
// hold for good: a site estimated slow is not chosen, so it gets no sample that could correct it.

export interface EwmaOptions {
  tauMs: number;
  minAlpha: number;
  /** Age of the last sample from which `valueAt` reads null; 5 tau when not given. */
  staleMs?: number;
}

export const DEFAULT_EWMA: EwmaOptions = { tauMs: 60_000, minAlpha: 0.1, staleMs: 300_000 };

export class Ewma {
  private v: number | null = null;
  private at = 0;
  private n = 0;

  constructor(private readonly options: EwmaOptions = DEFAULT_EWMA) {}

  get value(): number | null {
    return this.v;
  }

  /** The value as of `now`: null without samples, or once the last one is `staleMs` old. */
  valueAt(now: number): number | null {
    return now - this.at < (this.options.staleMs ?? 5 * this.options.tauMs) ? this.v : null;
  }

  get samples(): number {
    return this.n;
  }

  add(sample: number, now: number): void {
    if (this.v === null) {
      this.v = sample;
    } else {
      const alpha = Math.max(this.options.minAlpha, 1 - Math.exp(-Math.max(0, now - this.at) / this.options.tauMs), 1 / (this.n + 1));
      this.v += alpha * (sample - this.v);
    }
    this.at = now;
    this.n++;
  }
}

/**
 * Mean and spread of a site's log error, ln(observed / expected time to first token) against the catalog's
 * figure, for admission with a margin (`ttftConfidence`). Both read 0 (no margin) until `minSamples`
 * results are in, and again once the last result is `staleMs` old: a site has to be tried to be learned,
 * and a site kept out by its margin would otherwise never get the samples that could let it back in. A
 * margin from a handful of samples would be noise. Samples are weighed by count, not time: a spread needs
 * dozens of them to mean anything, and at a site busy enough for the margin to matter, the last ~50
 * results are recent.
 */
export class LogError {
  private m = 0;
  private m2 = 0;
  private n = 0;
  private at = -Infinity;
  // Kept rather than derived: placement reads both for every site of every decision.
  private mean_ = 0;
  private sd_ = 0;

  constructor(private readonly options: LogErrorOptions = DEFAULT_LOG_ERROR) {}

  mean(now: number): number {
    return now - this.at < this.options.staleMs ? this.mean_ : 0;
  }

  sd(now: number): number {
    return now - this.at < this.options.staleMs ? this.sd_ : 0;
  }

  get samples(): number {
    return this.n;
  }

  add(logError: number, now: number): void {
    if (now - this.at >= this.options.staleMs) this.n = this.mean_ = this.sd_ = 0;
    this.at = now;
    const alpha = Math.max(1 / ++this.n, this.options.minAlpha);
    this.m += alpha * (logError - this.m);
    this.m2 += alpha * (logError * logError - this.m2);
    if (this.n < this.options.minSamples) return;
    this.mean_ = this.m;
    this.sd_ = Math.sqrt(Math.max(0, this.m2 - this.m * this.m));
  }
}

export interface LogErrorOptions {
  minSamples: number;
  staleMs: number;
  /** Weight floor: the last ~1/minAlpha samples make the estimate. */
  minAlpha: number;
}

export const DEFAULT_LOG_ERROR: LogErrorOptions = { minSamples: 10, staleMs: 300_000, minAlpha: 0.02 };
