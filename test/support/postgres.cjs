// A PostgreSQL database of the test's own. On this kind of machine a server already runs on
// 127.0.0.1:5432 with trust authentication: each call creates a fresh database there and drops it at
// stop(). Where none answers (a fresh machine), Debian's postgresql package is installed (as the editor
// tests install Chromium) and a private cluster is started on a free port in a temp directory, never
// skipped. Plain JavaScript (types in postgres.d.cts), like redis.cjs.

'use strict';

const { spawn, spawnSync } = require('node:child_process');
const { freePort } = require('../../scripts/ports.cjs');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pg = require('pg');


/** @param {string} url @returns {Promise<boolean>} */
async function answers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The server's bin directory, installing Debian's package where there is none. */
async function postgresBin() {
  const find = () => {
    const root = '/usr/lib/postgresql';
    const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin/initdb'))) : [];
    return versions.length ? path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin') : null;
  };
  if (!find()) {
    const { installDebianPackages } = await import('../../scripts/editor-setup.mjs');
    installDebianPackages('PostgreSQL for the team ledger tests', ['postgresql']);
  }
  const bin = find();
  if (!bin) throw new Error('PostgreSQL was installed but no initdb was found under /usr/lib/postgresql');
  return bin;
}

/** The postgres user's uid and gid, for root to run the server as (it refuses to run as root); the package creates it. */
function postgresUser() {
  const id = (/** @type {string} */ flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** A private cluster on a free port, in a temp directory. */
async function startCluster() {
  const bin = await postgresBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-pg-'));
  const user = process.getuid?.() === 0 ? postgresUser() : {};
  if ('uid' in user) fs.chownSync(dir, user.uid, user.gid);
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync'], { encoding: 'utf8', ...user });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error}`);
  const port = await freePort();
  const child = spawn(path.join(bin, 'postgres'), ['-D', dir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], { stdio: 'ignore', ...user });
  const exited = new Promise((resolve) => child.once('exit', () => resolve(undefined)));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  for (const deadline = Date.now() + 30_000; !(await answers(url)); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > deadline) throw new Error(`the private PostgreSQL on ${port} did not answer`);
  }
  return {
    port,
    async stop() {
      // SIGINT: PostgreSQL's fast shutdown, which does not wait for clients.
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The private cluster, when one was needed, shared by this process's databases and stopped with the last. */
/** @type {Promise<{ port: number, stop(): Promise<void> }> | null} */
let cluster = null;
let databases = 0;

/** `password` goes into the URL only (trust authentication ignores it), so that tests can look for it in logs. */
async function startPostgres(/** @type {{ password?: string }} */ options = {}) {
  let port = 5432;
  if (!(await answers('postgres://postgres@127.0.0.1:5432/postgres'))) {
    cluster ??= startCluster();
    port = (await cluster).port;
  }
  databases++;
  const database = `switchyard_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const auth = options.password ? `postgres:${encodeURIComponent(options.password)}` : 'postgres';
  return {
    url: `postgres://${auth}@127.0.0.1:${port}/${database}`,
    port,
    database,
    async stop() {
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.end();
      if (--databases === 0 && cluster) {
        const stopping = cluster;
        cluster = null;
        await (await stopping).stop();
      }
    },
  };
}

exports.startPostgres = startPostgres;
