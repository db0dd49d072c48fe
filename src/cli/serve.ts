/** `atrad serve`: the foreground daemon (options in commands.ts). */
import { fstatSync, statSync } from "node:fs";
import { ConfigError, listenProblem, loadConfig } from "../config/load.ts";
import { startDaemon } from "../daemon/daemon.ts";
import { PortInUseError } from "../gateway/server.ts";
import { HomeLockedError } from "../daemon/lock.ts";
import { EXIT_CONFIG, EXIT_IN_USE, serviceExit } from "../platform/exit-codes.ts";
import { batchedWriter, createLogger } from "../log.ts";
import { daemonLogPath, rotatingWriter } from "../supervisor/logfile.ts";
import { UsageError, type Input } from "./command.ts";
import type { serveOptions } from "./commands.ts";
import type { CliIO } from "./io.ts";

export async function serveCommand(input: Input<typeof serveOptions>, io: CliIO): Promise<number> {
  const code = await serve(input, io);
  const reported = serviceExit(code, io.env);
  if (reported !== code) io.err(`atrad serve: exiting 0 (not ${code}) so launchd does not relaunch into the same failure; fix it, then: atrad start\n`);
  return reported;
}

async function serve({ values }: Input<typeof serveOptions>, io: CliIO): Promise<number> {
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(/^\d+$/.test(values.port!) && port <= 65535)) throw new UsageError(`--port "${values.port}" is not a port number (0–65535)`);
  let config;
  try {
    config = loadConfig({ env: io.env, file: values.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`atrad serve: ${err.message}\n`);
      return EXIT_CONFIG; // the service definitions do not relaunch on it: a restart can't fix a typo
    }
    throw err;
  }
  const host = values.host ?? config.server.host;
  const refused = listenProblem(config, host);
  if (refused) {
    io.err(`atrad serve: ${refused}\n`);
    return EXIT_CONFIG;
  }
  // stderr for launchd/systemd, and a rotated file for `atrad logs` — unless stderr already is
  // that file (the background mode redirects it there): then every line would be written twice.
  const logPath = daemonLogPath(config.home);
  const toFile = rotatingWriter(logPath);
  const toStderr = !isSameFile(2, logPath);
  const sink = batchedWriter((text) => {
    if (toStderr) process.stderr.write(text);
    toFile(text);
  });
  process.once("exit", sink.flush);
  const logger = createLogger(config.log.level, sink.write);
  let daemon;
  try {
    daemon = await startDaemon({ config, host, port: port ?? config.server.port, logger, watch: true, releaseWhenIdle: true, load: () => loadConfig({ env: io.env, file: values.config }) });
  } catch (err) {
    if (err instanceof PortInUseError || err instanceof HomeLockedError) {
      io.err(`atrad serve: ${err.message}\n`);
      return EXIT_IN_USE;
    }
    throw err;
  }
  await new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      daemon.logger.info(`received ${signal}, shutting down`);
      // launchd's ExitTimeOut is 20 s: whatever is still hanging at 15 s is abandoned.
      setTimeout(() => {
        daemon.logger.warn("shutdown took over 15 s; killing what is left and exiting");
        daemon.supervisor?.killAllNow();
        resolve();
      }, 15_000).unref();
      await daemon.stop();
      daemon.logger.info("stopped");
      sink.flush();
      resolve();
    };
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
    process.on("SIGHUP", () => daemon.reload());
  });
  return 0;
}

/** Whether file descriptor `fd` is open on `path` (same device and inode). */
function isSameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}
