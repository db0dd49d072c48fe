/** The CLI's window on the world, passed in so tests never touch process.argv or stdout. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** Whether stdout is a terminal (colour, tables). */
  isTTY: boolean;
  /** All of standard input (only commands that read it call this). */
  stdin?: () => Promise<string>;
  /** Whether stdin is a terminal: nobody is going to pipe anything in. */
  stdinIsTTY?: boolean;
}

export const processIO = (): CliIO => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
  stdin: () => Bun.stdin.text(),
  stdinIsTTY: Boolean(process.stdin.isTTY),
});

