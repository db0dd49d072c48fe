/** `atrad config path | print | check | init [--force]` (options in commands.ts). */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { configPath, ConfigError, listenProblem, loadConfig } from "../config/load.ts";
import { renderEffectiveConfig, renderInitialConfig } from "../config/render.ts";
import { ModelCatalog } from "../router/catalog.ts";
import { autoTargets, formatTarget } from "../router/resolve.ts";
import type { Input } from "./command.ts";
import type { configOptions } from "./commands.ts";
import type { CliIO } from "./io.ts";

export async function configCommand({ values, args }: Input<typeof configOptions>, io: CliIO): Promise<number> {
  const sub = (args[0] ?? "path") as "path" | "print" | "check" | "init";
  const file = configPath(io.env, values.config);
  switch (sub) {
    case "path":
      io.out(file + "\n");
      return 0;
    case "check":
    case "print": {
      let config;
      try {
        config = loadConfig({ env: io.env, file: values.config });
      } catch (err) {
        if (err instanceof ConfigError) {
          io.err(err.message + "\n");
          return 1;
        }
        throw err;
      }
      // Everything `serve` refuses to start with is a failed check too.
      const refused = sub === "check" ? listenProblem(config) : undefined;
      if (refused) {
        io.err(new ConfigError(config.file, [refused]).message + "\n");
        return 1;
      }
      if (sub === "check") io.out(`${config.fileExists ? file : "(no file: defaults)"}: ok — ${config.providers.length} providers, ${config.services.length} services\n`);
      else io.out(renderEffectiveConfig(config));
      return 0;
    }
    case "init": {
      if (existsSync(file) && !values.force) {
        io.err(`${file} already exists; not overwriting it (use --force to replace it)\n`);
        return 1;
      }
      const config = loadConfig({ env: io.env, file: "/dev/null" });
      const discovered = await new ModelCatalog(config.providers, 0, 2000).all();
      const pick = (tier: "opus" | "haiku" | undefined) => autoTargets(tier, discovered).map(formatTarget);
      const routes = { default: pick(undefined), opus: pick("opus"), sonnet: pick("opus"), haiku: pick("haiku") };
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, renderInitialConfig(routes), { mode: 0o600 });
      const found = discovered.filter((d) => d.models.length).map((d) => `${d.provider} (${d.models.length} models)`);
      io.out(`wrote ${file}${found.length ? ` — routes from ${found.join(", ")}` : " — no model found on any provider: atrad picks one itself once there is one (config init --force writes the choice down)"}\n`);
      return 0;
    }
    default:
      return sub satisfies never;
  }
}
