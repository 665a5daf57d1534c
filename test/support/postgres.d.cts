export interface TestPostgres {
  /** postgres://postgres[:password]@127.0.0.1:<port>/<database> */
  url: string;
  port: number;
  database: string;
  /** Drops the database (and stops the private cluster, when one was started). */
  stop(): Promise<void>;
}

/** A fresh database on the machine's PostgreSQL, or on a private cluster where none answers. */
export function startPostgres(options?: { password?: string }): Promise<TestPostgres>;
