// The fetch every real adapter hands to its provider library: counts the bytes of each response body as
// they come off the socket, keeps the last response's status and lower-cased headers (rate limits,
// retry-after) even when the library turns the response into an error, and aborts the request when the
// upstream goes silent for longer than the idle timeout (a stall), so a hung site fails over instead of
// holding the request forever. It asks for the answer uncompressed: fetch decodes what it reads, so a
// compressed answer would be counted (and its egress billed) at its decoded size, not what crossed the wire.

export interface WireStats {
  /** Response body bytes received so far, across every response of this request. */
  bytes: number;
  status: number | null;
  headers: Record<string, string>;
  /** Set when the idle timer fired. */
  stalled: boolean;
}

export interface MeteredFetch {
  fetch: typeof globalThis.fetch;
  /** Aborted on the caller's cancel or a stall; what the library is given as the request's abortSignal. */
  signal: AbortSignal;
  stats: WireStats;
  /** Aborts the upstream request now (used on cancel and on stall). */
  abort(reason: unknown): void;
  /** Stops the idle timer; call once the request is over. */
  done(): void;
}

export class StallError extends Error {
  constructor(readonly idleMs: number) {
    super(`no data from the upstream for ${idleMs} ms`);
    this.name = 'StallError';
  }
}

/**
 * `signal` is the caller's (cancel); the returned fetch ignores any signal but its own combined one, so
 * the library's abortSignal and ours are the same thing.
 */
export function meteredFetch(signal: AbortSignal, idleTimeoutMs: number, base: typeof globalThis.fetch = globalThis.fetch): MeteredFetch {
  const controller = new AbortController();
  const stats: WireStats = { bytes: 0, status: null, headers: {}, stalled: false };
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  const abort = (reason: unknown) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onCallerAbort = () => abort(signal.reason ?? new Error('cancelled'));
  if (signal.aborted) onCallerAbort();
  else signal.addEventListener('abort', onCallerAbort, { once: true });

  const arm = () => {
    if (timer) clearTimeout(timer);
    if (finished || idleTimeoutMs <= 0) return;
    timer = setTimeout(() => {
      stats.stalled = true;
      abort(new StallError(idleTimeoutMs));
    }, idleTimeoutMs);
    timer.unref?.();
  };

  const done = () => {
    finished = true;
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', onCallerAbort);
  };

  const fetch: typeof globalThis.fetch = async (input, init) => {
    arm();
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set('accept-encoding', 'identity');
    const response = await base(input, { ...init, headers, signal: controller.signal });
    stats.status = response.status;
    const received: Record<string, string> = {};
    response.headers.forEach((value, key) => (received[key.toLowerCase()] = value));
    stats.headers = received;
    arm();
    if (!response.body) return response;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          stats.bytes += chunk.byteLength;
          arm();
          out.enqueue(chunk);
        },
        flush() {
          if (timer) clearTimeout(timer);
        },
      }),
      { signal: controller.signal },
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  return { fetch, signal: controller.signal, stats, abort, done };
}
