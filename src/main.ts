#!/usr/bin/env bun
import { runCli } from "./cli/index.ts";
import { processIO } from "./cli/io.ts";

// Exit explicitly: the daemon leaves timers behind that would otherwise keep the process up.
process.exit(await runCli(process.argv.slice(2), processIO()));
