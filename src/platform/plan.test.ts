import { expect, test } from "bun:test";
import { layoutFor } from "./layout.ts";
import { commandsOf, describeStep, shellQuote } from "./plan.ts";
import { planFor } from "./service.ts";

const layout = (manager: "launchd" | "systemd" | "none") =>
  layoutFor({ env: { HOME: "/h", ATRAD_HOME: "/h/.atrad" }, platform: manager === "launchd" ? "darwin" : "linux", manager, port: 8040, uid: 501 });

test("plans are data: the commands each operation would run, per manager", () => {
  expect(commandsOf(planFor("stop", layout("launchd")))).toEqual([["launchctl", "bootout", "gui/501/com.atra.atrad"]]);
  expect(commandsOf(planFor("restart", layout("systemd")))).toEqual([["systemctl", "--user", "restart", "atrad.service"]]);
  // Without a manager nothing is shelled out: a detached process and a pidfile.
  const bg = planFor("start", layout("none"));
  expect(commandsOf(bg)).toEqual([]);
  expect(bg.map(describeStep)).toEqual([
    "mkdir -p /h/.atrad",
    "mkdir -p /h/.atrad/logs",
    "/h/.local/bin/atrad serve >>/h/.atrad/logs/atrad.log 2>&1 &  (pid → /h/.atrad/atrad.pid)",
    "wait up to 20 s for http://127.0.0.1:8040/health to answer from the pid the service manager started",
  ]);
  expect(planFor("uninstall", layout("none"), { purge: true }).map(describeStep)).toEqual([
    "kill $(cat /h/.atrad/atrad.pid)  (if running)",
    "rm -f /h/.local/bin/atrad",
    "rm -rf /h/.atrad",
    "rm -rf /h/.atrad/logs",
  ]);
});

test("dry-run lines quote only what a shell would need quoted", () => {
  expect(shellQuote("gui/501/com.atra.atrad")).toBe("gui/501/com.atra.atrad");
  expect(shellQuote("/Users/a b/x")).toBe("'/Users/a b/x'");
  expect(shellQuote("it's")).toBe(`'it'\\''s'`);
});
