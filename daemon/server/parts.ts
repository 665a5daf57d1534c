// The daemon's parts, built once per process and shared by every connection: catalog, telemetry and
// router (engine), meter, policies, keys, site adapters and the chat service.

import crypto from 'node:crypto';
import { CatalogStore } from '../catalog/store';
import { ChatService } from '../chat/service';
import { PolicyBook } from '../engine/policyBook';
import { Router } from '../engine/router';
import { Telemetry } from '../engine/telemetry';
import type { Logger } from '../log/logger';
import type { Redactor } from '../log/redact';
import { Meter } from '../meter';
import { Credentials } from '../providers/keys';
import { usableCaps } from '../meter/budgets';
import { AdapterPool } from '../providers/pool';
import { createAdapter } from '../providers/registry';
import { RealClock } from '../providers/simulated/clock';
import { mulberry32 } from '../providers/simulated/rng';
import { Team, TEAM_LEDGER_URL_ENV, TEAM_URL_ENV } from '../team';
import { MAX_SEED, type DaemonOptions } from './args';
import { loadSettings, saveSettings, type DaemonSettings } from './settings';

/** The parts of AWS credentials that are secret (the access key id is masked by its shape). */
const AWS_SECRET_ENV = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

export interface Parts {
  catalog: CatalogStore;
  telemetry: Telemetry;
  router: Router;
  meter: Meter;
  policies: PolicyBook;
  credentials: Credentials;
  chat: ChatService;
  clock: RealClock;
  team: Team;
  /** The simulated fleet's seed. */
  seed: number;
  settings(): DaemonSettings;
  saveSettings(change: Partial<DaemonSettings>): void;
  close(): Promise<void>;
}

export async function openParts(options: DaemonOptions, log: Logger, redactor: Redactor): Promise<Parts> {
  // The keys are masked before anything is logged: a refused catalog file may quote any of its text.
  const credentials = Credentials.fromEnv(process.env);
  for (const key of credentials.secrets()) redactor.add(key);
  // Signed AWS credentials are read by the Bedrock adapter itself, and are secrets all the same.
  for (const name of AWS_SECRET_ENV) if (process.env[name]) redactor.add(process.env[name]!);
  // A removed key stays masked: a late error from a request still in flight may quote it.
  credentials.onChange((key, added) => added && redactor.add(key));
  const loaded = loadSettings(options.stateDir);
  if (loaded.error) log.warn(loaded.error);
  let settings = loaded.settings;
  const catalogFile = options.catalogFile ?? settings.catalogFile;
  const catalog = new CatalogStore(catalogFile ? [catalogFile] : []);
  const catalogError = await catalog.reload();
  if (catalogError) log.error('catalog not loaded; the built-in fleet stays in force', { error: catalogError });
  catalog.watch();
  catalog.onChange((_catalog, error) => (error ? log.error('catalog reload refused; the previous catalog stays in force', { error }) : log.info('catalog reloaded', { ...catalog.summary() })));

  const clock = new RealClock(options.simSpeed);
  // Logged so that a session's simulated answers can be had again with --sim-seed.
  const seed = options.simSeed ?? crypto.randomInt(MAX_SEED + 1);
  log.info('simulated fleet seeded', { seed, chosen: options.simSeed !== undefined });
  const telemetry = new Telemetry();
  const router = new Router(catalog, telemetry, clock, mulberry32(seed));
  // What is in force is what is saved next: settings.json no longer holds the caps dropped here.
  settings = { ...settings, budgets: usableCaps(settings.budgets, (message) => log.warn(`settings.json: ${message}`)) };
  const meter = await Meter.open(options.stateDir, { budgets: settings.budgets, log: (message) => log.warn(message) });
  const report = meter.recoveryReport;
  log.info('ledger recovered', { rollups: report.rollups, replayed: report.replayed, ms: report.ms, damagedFiles: report.files.length });
  const policies = new PolicyBook(settings, () => new Set(catalog.catalog.sites.map((s) => s.id)));
  const adapters = new AdapterPool(clock, seed, createAdapter);
  const team = new Team({
    site: (id) => catalog.index.site(id), observe: (o, now) => telemetry.observe(o, now), now: () => clock.now(),
    receiptsSince: (since) => meter.receiptsSince(since), log, redactor,
  });
  router.onLearned((observation) => team.publish(observation));
  for (const [name, field] of [[TEAM_URL_ENV, 'telemetryUrl'], [TEAM_LEDGER_URL_ENV, 'ledgerUrl']] as const) {
    const url = process.env[name];
    if (!url) continue;
    try {
      await team.set({ [field]: url });
    } catch (error) {
      log.error(`${name} refused; not shared with the team`, { error: (error as Error).message });
    }
  }
  const chat = new ChatService({ catalog, router, meter, policies, credentials, adapters, clock, log, team });

  return {
    catalog,
    telemetry,
    router,
    meter,
    policies,
    credentials,
    chat,
    clock,
    team,
    seed,
    settings: () => settings,
    saveSettings(change) {
      settings = { ...settings, ...change };
      try {
        saveSettings(options.stateDir, settings);
      } catch (error) {
        log.error('could not save settings', { error });
      }
    },
    async close() {
      catalog.close();
      await team.close();
      await meter.close();
    },
  };
}
