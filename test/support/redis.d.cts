export interface TestRedis {
  /** redis://[:password@]127.0.0.1:<port> */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts a redis-server of the test's own on a free port; `password` starts it with requirepass. */
export function startRedis(options?: { password?: string }): Promise<TestRedis>;
