// How the server process is started: the command line from the settings, and a check that it exists.

import * as path from "node:path";

/** The client-side settings that decide how the server process is started. */
export interface LaunchSettings {
  command: string;
  args: string[];
  pythonPath: string;
}

/** The program and arguments to run (vscode-languageclient appends --stdio). */
export function launchCommand(settings: LaunchSettings): { command: string; args: string[] } {
  const python = settings.pythonPath.trim();
  if (python) {
    return { command: python, args: ["-m", "kimi_lsp", ...settings.args] };
  }
  return { command: settings.command.trim() || "kimi-lsp", args: [...settings.args] };
}

/** A key that changes whenever the server must be restarted (launch settings or the API key). */
export function launchFingerprint(settings: LaunchSettings, apiKey: string | undefined): string {
  // Not the key itself: only whether it changed, through a short hash.
  return JSON.stringify([settings.command.trim(), settings.args, settings.pythonPath.trim(), hash(apiKey ?? "")]);
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  }
  return h >>> 0;
}

/**
 * Where `command` would be found, or undefined. A command with a slash is taken as a path;
 * otherwise each PATH entry is tried (with PATHEXT's extensions on Windows).
 */
export function findExecutable(
  command: string,
  env: Record<string, string | undefined>,
  isExecutable: (file: string) => boolean,
  platform: string = process.platform,
  cwd?: string,
): string | undefined {
  if (!command) {
    return undefined;
  }
  const windows = platform === "win32";
  const extensions = windows ? ["", ...(env.PATHEXT ?? ".EXE;.CMD;.BAT;.COM").split(";")] : [""];
  if (command.includes("/") || (windows && command.includes("\\"))) {
    const full = cwd && !path.isAbsolute(command) ? path.join(cwd, command) : command;
    return extensions.map((ext) => full + ext).find(isExecutable);
  }
  const dirs = (env.PATH ?? env.Path ?? "").split(windows ? ";" : ":").filter(Boolean);
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = path.join(dir, command + ext);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}
