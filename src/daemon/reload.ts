/**
 * Hot reload: `atrad reload`, SIGHUP, or an edit of the config file. A valid new config swaps
 * providers and routes for the next request (in-flight streams hold their own references and
 * finish untouched); an invalid one is rejected, the old config stays, and the error — file
 * and key — is kept for `atrad status` and the log.
 *
 * A reload can never weaken who may call: a file that went missing or empty (an editor's
 * truncate-then-write, a bad `mv`) would otherwise read as "all defaults" and drop
 * `auth_tokens`; a new config is taken with the address actually bound (a reload cannot
 * rebind, and `--host` outranks the file), and one that would leave that address open
 * without tokens is rejected like an invalid one.
 */
import { existsSync, readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { ConfigError, listenProblem, type Config } from "../config/load.ts";
import { maskUrl } from "../mask.ts";

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
  /** When that reload was rejected. */
  rejected_at?: string | null;
}

/** `config` as it applies to a daemon listening on `host` (the flag or env that chose it wins). */
export function boundTo(config: Config, host: string): Config {
  return config.server.host === host ? config : { ...config, server: { ...config.server, host } };
}

/**
 * The config to switch to, or why the running one stays: `running` is what the daemon serves
 * now, `host` the address it is bound to.
 */
export function tryReload(load: () => Config, running: Config, host: string): { config?: Config; error?: string } {
  const r = judgeReload(load, running, host);
  // The error is shown by `atrad reload`, status and the log, and may quote a provider URL.
  return r.error ? { error: maskUrl(r.error) } : r;
}

function judgeReload(load: () => Config, running: Config, host: string): { config?: Config; error?: string } {
  const keep = "; keeping the running config";
  if (running.fileExists) {
    if (!existsSync(running.file)) return { error: `${running.file} is missing${keep} (restore it, or restart atrad to run on defaults)` };
    let text = "";
    try {
      text = readFileSync(running.file, "utf8");
    } catch (err) {
      return { error: `cannot read ${running.file}: ${(err as Error).message}${keep}` };
    }
    if (!hasContent(text)) return { error: `${running.file} is empty${keep} (write the config back, or restart atrad to run on defaults)` };
  }
  const { config, error } = tryLoad(load);
  if (!config) return { error };
  const next = boundTo(config, host);
  const open = listenProblem(next, host);
  if (open) return { error: `reload rejected: atrad is listening on ${host} and the new config has no server.auth_tokens${keep}.\n${open}` };
  return { config: next };
}

/** Whether TOML text says anything at all (not only blank lines and comments). */
function hasContent(text: string): boolean {
  return text.split("\n").some((line) => line.trim() !== "" && !line.trim().startsWith("#"));
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
