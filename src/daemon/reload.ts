/**
 * Hot reload: `atrad reload`, SIGHUP, or an edit of the config file. A valid new config swaps
 * providers and routes for the next request (in-flight streams hold their own references and
 * finish untouched); an invalid one is rejected, the old config stays, and the error — file
 * and key — is kept for `atrad status` and the log.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { ConfigError, type Config } from "../config/load.ts";

export interface ReloadResult {
  ok: boolean;
  error?: string;
  changed?: boolean;
}

export interface ConfigState {
  file: string;
  loaded_at: string;
  /** The last rejected reload's error; cleared by a good one. */
  error: string | null;
}

export function tryLoad(load: () => Config): { config?: Config; error?: string } {
  try {
    return { config: load() };
  } catch (err) {
    return { error: err instanceof ConfigError ? err.message : `cannot load config: ${(err as Error).message}` };
  }
}

/**
 * Watch the config file's folder (editors replace files by rename, which a watch on the file
 * itself would miss) and call `onChange` once per burst of events.
 */
export function watchConfig(file: string, onChange: () => void, debounceMs = 150): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), (_event, name) => {
      if (name && name !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
  } catch {
    // The folder may not exist yet (zero-config use): SIGHUP and `atrad reload` still work.
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
