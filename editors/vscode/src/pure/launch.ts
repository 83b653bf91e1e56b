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
 * Where `command` would be found, or undefined. A command with a slash must be an absolute path:
 * a relative one is never resolved (against the workspace or anything else), so a repository
 * cannot name its own program. Otherwise each absolute PATH entry is tried (with PATHEXT's
 * extensions on Windows); relative entries such as "." are skipped for the same reason.
 */
export function findExecutable(
  command: string,
  env: Record<string, string | undefined>,
  isExecutable: (file: string) => boolean,
  platform: string = process.platform,
): string | undefined {
  if (!command) {
    return undefined;
  }
  const windows = platform === "win32";
  const paths = windows ? path.win32 : path.posix;
  const extensions = windows ? ["", ...(env.PATHEXT ?? ".EXE;.CMD;.BAT;.COM").split(";")] : [""];
  if (command.includes("/") || (windows && command.includes("\\"))) {
    if (!paths.isAbsolute(command)) {
      return undefined;
    }
    return extensions.map((ext) => command + ext).find(isExecutable);
  }
  const dirs = (env.PATH ?? env.Path ?? "").split(windows ? ";" : ":").filter((dir) => dir && paths.isAbsolute(dir));
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = paths.join(dir, command + ext);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** Why `command` was not found, as the end of a sentence. */
export function notFoundReason(command: string, platform: string = process.platform): string {
  const windows = platform === "win32";
  const hasSlash = command.includes("/") || (windows && command.includes("\\"));
  const absolute = (windows ? path.win32 : path.posix).isAbsolute(command);
  if (hasSlash && !absolute) {
    return `'${command}' is a relative path (kimi.server.command and kimi.server.pythonPath take an absolute path or a name on PATH)`;
  }
  return hasSlash ? `cannot find '${command}'` : `cannot find '${command}' on PATH`;
}
