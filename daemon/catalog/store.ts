// The catalog in force: built-in fleet plus the user's files, reloaded when a file changes. I/O lives
// here; validation and merging are pure (merge.ts). A bad file leaves the previous catalog in force and
// sets `error` until a good version is saved.

import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { CatalogSummary } from '../protocol';
import { indexCatalog, type CatalogIndex } from './lookup';
import { buildCatalog, CatalogError, type CatalogFile } from './merge';
import type { Catalog, Site } from './types';

export interface CatalogStoreOptions {
  /** Editors write a file in several steps (truncate, write, rename); wait for them to settle. */
  debounceMs?: number;
  /** Replaces the built-in fleet (tests, benches). */
  builtin?: readonly Site[];
}

export class CatalogStore {
  private idx: CatalogIndex;
  private lastError: string | null = null;
  private watchers: FSWatcher[] = [];
  /** Set by watch(): files named later (setFiles) are watched too, even when there were none before. */
  private watching = false;
  private timer: NodeJS.Timeout | undefined;
  /** Counts reloads begun; the last one's outcome is `latest`. */
  private generation = 0;
  private latest: Promise<string | null> = Promise.resolve(null);
  private listeners = new Set<(catalog: Catalog, error: string | null) => void>();
  private readonly debounceMs: number;

  constructor(private files: string[] = [], private readonly options: CatalogStoreOptions = {}) {
    this.debounceMs = options.debounceMs ?? 150;
    this.idx = indexCatalog(buildCatalog([], options.builtin));
  }

  get catalog(): Catalog {
    return this.idx.catalog;
  }

  get index(): CatalogIndex {
    return this.idx;
  }

  /** The last load error, or null; while set, the previous catalog stays in force. */
  get error(): string | null {
    return this.lastError;
  }

  /**
   * Reads every file and swaps the catalog in when all are valid. Resolves to the error, if any. Reads
   * can end out of order: one that ends after a later reload began changes nothing and resolves to that
   * reload's outcome, so an older file's text (or a file no longer named) never replaces a newer one.
   */
  reload(): Promise<string | null> {
    const generation = ++this.generation;
    this.latest = this.load(generation);
    return this.latest;
  }

  private async load(generation: number): Promise<string | null> {
    const read = await this.read(this.files);
    if (generation !== this.generation) return this.latest;
    if (typeof read === 'string') return this.fail(read);
    this.idx = indexCatalog(read);
    this.lastError = null;
    this.emit();
    return null;
  }

  /** The catalog `files` would make, or why they would be refused; changes nothing. */
  private async read(files: readonly string[]): Promise<Catalog | string> {
    let loaded: CatalogFile[];
    try {
      loaded = await Promise.all(files.map(async (name) => ({ name, text: await readFile(name, 'utf8') })));
    } catch (e) {
      return `cannot read catalog file: ${(e as Error).message}`;
    }
    try {
      return buildCatalog(loaded, this.options.builtin);
    } catch (e) {
      if (e instanceof CatalogError) return e.message;
      throw e;
    }
  }

  /**
   * The site ids in force once `files` are set: theirs when they would load, else the current ones (a
   * refused file leaves the catalog as it is). Settings that name a new file and a policy pinned to a
   * site in it are checked against this before either is applied.
   */
  async siteIdsWith(files: readonly string[]): Promise<ReadonlySet<string>> {
    const read = await this.read(files);
    return new Set((typeof read === 'string' ? this.catalog : read).sites.map((s) => s.id));
  }

  /** Points the store at other files (the user changed the setting), reloads and re-watches. */
  async setFiles(files: string[]): Promise<string | null> {
    this.files = files;
    if (this.watching) this.watch();
    return this.reload();
  }

  /** Watches each file's folder (editors replace files by rename, which a file watch would miss). */
  watch(): void {
    this.unwatch();
    this.watching = true;
    for (const file of this.files) {
      const name = basename(file);
      let w: FSWatcher;
      try {
        w = watch(dirname(file), (_event, changed) => {
          if (changed === null || changed.toString() === name) this.schedule();
        });
      } catch (e) {
        // A folder that is gone (renamed, deleted) must not stop the daemon from starting; the read has
        // already said the file is missing, which says more than this.
        if (this.lastError === null) this.fail(`cannot watch ${file} for changes: ${(e as Error).message}`);
        continue;
      }
      w.on('error', () => this.fail(`stopped watching ${file}`));
      this.watchers.push(w);
    }
  }

  onChange(listener: (catalog: Catalog, error: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  summary(): CatalogSummary {
    const { sites } = this.catalog;
    return {
      sites: sites.length,
      models: new Set(sites.flatMap((s) => s.models.map((m) => m.canonical))).size,
      providers: new Set(sites.map((s) => s.provider)).size,
      simulated: sites.filter((s) => s.simulated).length,
      files: this.catalog.files,
      error: this.lastError,
    };
  }

  close(): void {
    this.watching = false;
    this.unwatch();
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.debounceMs);
  }

  private unwatch(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private fail(message: string): string {
    this.lastError = message;
    this.emit();
    return message;
  }

  private emit(): void {
    for (const l of this.listeners) l(this.catalog, this.lastError);
  }
}
