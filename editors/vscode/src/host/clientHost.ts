// Owns the language client: starts the server with the launch settings and the API key, restarts it, and re-installs handlers.

import * as fs from "node:fs";
import * as os from "node:os";
import * as readline from "node:readline";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  type LanguageClientOptions,
  type InitializeParams,
  type Middleware,
  type ServerOptions,
} from "vscode-languageclient/node";
import { effectiveBaseUrl, endpointHost } from "../pure/endpoint";
import { keyRoutes, type KeyRoutes } from "../pure/endpointKeys";
import { findExecutable, launchCommand, launchFingerprint, notFoundReason, type LaunchSettings } from "../pure/launch";
import { stderrLevel } from "../pure/serverLog";
import { predictionWire } from "../pure/prediction";
import { machineValue, serverSettings, userValue, withoutSecrets, type Inspected } from "../pure/settings";
import type { ApiKeyStore } from "./apiKey";
import type { KeyConsent } from "./keyConsent";
import type { KimiLog } from "./outputLog";
import type { Trust } from "./trust";

type Handler = (params: any) => void;

export type HostState = "starting" | "running" | "stopped" | "failed";

function isExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return false;
    if (process.platform === "win32") return true;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The user-set `kimi.*` server settings (defaults left to the server, the API key never included). */
export function currentServerSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration("kimi");
  const inspect = (key: string) => config.inspect(key) as Inspected | undefined;
  const settings = serverSettings(inspect, vscode.workspace.isTrusted);
  // Edit prediction: the kimi.prediction.* keys as the server's `prediction` object, off while snoozed.
  const prediction = predictionWire(inspect, vscode.workspace.isTrusted, predictionForcedOff());
  return prediction ? { ...settings, prediction } : settings;
}

let predictionForcedOff: () => boolean = () => false;

/** Who says prediction is off whatever the setting (the snooze); set once by the extension. */
export function setPredictionForcedOff(source: () => boolean): void {
  predictionForcedOff = source;
}

/** The launch settings from the user's own settings (a workspace's value is ignored even if VS Code surfaces it). */
function readLaunchSettings(): LaunchSettings {
  const config = vscode.workspace.getConfiguration("kimi");
  const read = <T>(key: string, fallback: T): T => machineValue(config.inspect(key) as Inspected | undefined, fallback);
  const args = read<unknown>("server.args", []);
  const command = read<unknown>("server.command", "kimi-lsp");
  const pythonPath = read<unknown>("server.pythonPath", "");
  return {
    command: typeof command === "string" ? command : "kimi-lsp",
    args: Array.isArray(args) ? args.map(String) : [],
    pythonPath: typeof pythonPath === "string" ? pythonPath : "",
  };
}

/** The host the server will send requests (and the key) to. */
export function currentEndpointHost(): string {
  const inspected = vscode.workspace.getConfiguration("kimi").inspect("baseUrl") as Inspected | undefined;
  return endpointHost(effectiveBaseUrl(userValue(inspected, "user"), process.env));
}

/** Where each stored key would go under the user's kimi.baseUrl, kimi.models and kimi.fallback. */
export function currentKeyRoutes(): KeyRoutes {
  const config = vscode.workspace.getConfiguration("kimi");
  const user = (key: string): unknown => userValue(config.inspect(key) as Inspected | undefined, "user");
  return keyRoutes(effectiveBaseUrl(user("baseUrl"), process.env), user("models"), user("fallback"));
}

/** The stored keys a start hands over: the main one and one per endpoint variable. */
interface StoredKeys {
  main: string | undefined;
  endpoints: Record<string, string | undefined>;
}

/**
 * A language client that tells the server of no workspace folder when the workspace is not
 * trusted: the server then walks, indexes and edits nothing of it.
 */
class KimiLanguageClient extends LanguageClient {
  constructor(
    options: ServerOptions,
    clientOptions: LanguageClientOptions,
    private readonly restricted: boolean,
  ) {
    super("kimi", "Kimi", options, clientOptions);
  }

  protected override fillInitializeParams(params: InitializeParams): void {
    super.fillInitializeParams(params);
    if (this.restricted) {
      params.workspaceFolders = null;
      params.rootUri = null;
      params.rootPath = null;
    }
  }
}

export class ClientHost implements vscode.Disposable {
  private current: LanguageClient | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly stateEmitter = new vscode.EventEmitter<HostState>();
  private readonly disposables: vscode.Disposable[] = [];
  private fingerprint = "";
  private readyPromise!: Promise<void>;
  private settleReady!: { resolve: () => void; reject: (e: unknown) => void };
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;
  /** Whether the running server was started for an untrusted workspace. */
  private restricted = false;
  /** The host the stored key was withheld from (the user chose Cancel), if it was. */
  keyWithheldFrom: string | undefined;
  /** Endpoint variable -> the host its stored key was withheld from (the user chose Cancel). */
  endpointKeysWithheld: Record<string, string> = {};
  state: HostState = "stopped";
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(
    private readonly log: KimiLog,
    private readonly apiKeys: ApiKeyStore,
    private readonly trust: Trust,
    private readonly keyConsent: KeyConsent,
    /** Extra middleware (the server commands' routing), built with this host. */
    private readonly extraMiddleware: (host: ClientHost) => Middleware,
  ) {
    this.resetReady();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        // A new endpoint host restarts too: the key is only ever handed over at start, after asking.
        const endpoints = ["kimi.server", "kimi.baseUrl", "kimi.models", "kimi.fallback"];
        if (endpoints.some((section) => e.affectsConfiguration(section))) {
          void this.restartIfChanged("the kimi.server, kimi.baseUrl, kimi.models or kimi.fallback settings changed");
        }
      }),
      apiKeys.onDidChange(() => void this.restartIfChanged("the API key changed")),
      trust.onDidGrant(() => void this.restart("the workspace is now trusted")),
    );
  }

  private resetReady(): void {
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.readyPromise.catch(() => undefined); // a failed start is reported to the user, not as unhandled
  }

  private setState(state: HostState): void {
    this.state = state;
    this.stateEmitter.fire(state);
  }

  /** Resolves once a language client is running (rejects if the start failed). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  client(): LanguageClient | undefined {
    return this.current;
  }

  /** The running client, or an error the caller shows (commands need a server). */
  async running(): Promise<LanguageClient> {
    if (this.state === "starting") {
      await this.ready().catch(() => undefined);
    }
    const client = this.current;
    if (!client || client.state !== State.Running) {
      throw new Error("The Kimi server is not running (see the Kimi output; 'Kimi: Restart Server' starts it again).");
    }
    return client;
  }

  /** Listen to a server notification, on this client and every restarted one. */
  onNotification(method: string, handler: Handler): vscode.Disposable {
    let set = this.handlers.get(method);
    if (!set) {
      set = new Set();
      this.handlers.set(method, set);
      this.current?.onNotification(method, (params) => this.dispatch(method, params));
    }
    set.add(handler);
    return new vscode.Disposable(() => set.delete(handler));
  }

  private dispatch(method: string, params: unknown): void {
    for (const handler of this.handlers.get(method) ?? []) {
      try {
        handler(params);
      } catch (error) {
        this.log.error(`Handling ${method} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  restart(reason = "restart requested"): Promise<void> {
    return this.enqueue(async () => {
      this.log.info(`Restarting the Kimi server: ${reason}.`);
      await this.doStop();
      await this.doStart();
    });
  }

  /** Restart when something the start depends on changed (settings, key, host's answer, trust). */
  restartIfChanged(reason: string): Promise<void> {
    // Compared in the queue, after any start or restart before it: two triggers restart once.
    return this.enqueue(async () => {
      if (this.startFingerprint(await this.storedKeys()) === this.fingerprint) return;
      this.log.info(`Restarting the Kimi server: ${reason}.`);
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async doStop(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    if (this.state === "running" || this.state === "failed") this.resetReady();
    if (client) {
      try {
        if (client.state !== State.Stopped) await client.stop(3000);
      } catch (error) {
        this.log.warn(`Stopping the server: ${error instanceof Error ? error.message : String(error)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.setState("stopped");
  }

  /** The main key and the key of every endpoint variable the settings name, from secret storage. */
  private async storedKeys(routes: KeyRoutes = currentKeyRoutes()): Promise<StoredKeys> {
    const endpoints: Record<string, string | undefined> = {};
    for (const name of Object.keys(routes.endpoints)) endpoints[name] = await this.apiKeys.getEndpoint(name);
    return { main: await this.apiKeys.get(), endpoints };
  }

  /** What a restart compares: the launch settings, the keys, where each goes, the answers per host and the trust. */
  private startFingerprint(keys: StoredKeys): string {
    const routes = currentKeyRoutes();
    const hosts = [...new Set([...routes.main, ...Object.values(routes.endpoints).flat()])];
    const decisions = hosts.map((host) => `${host}=${this.keyConsent.decision(host)}`);
    // Endpoint keys enter the fingerprint hashed, like the main key.
    const endpointKeys = Object.entries(keys.endpoints).map(([name, key]) => launchFingerprint({ command: name, args: [], pythonPath: "" }, key));
    return [
      launchFingerprint(readLaunchSettings(), keys.main),
      JSON.stringify(routes),
      ...endpointKeys,
      ...decisions,
      String(this.trust.trusted),
    ].join(" ");
  }

  /**
   * The first of `hosts` the user refuses a stored key for (asking about each new one in turn),
   * or undefined when every host may have it. A key goes to every host that names it, so one
   * refusal withholds it from all of them.
   */
  private async refusedHost(hosts: string[], key: { name: string; setting: string }, mainHost?: string): Promise<string | undefined> {
    for (const host of hosts) {
      const setting = host === mainHost ? "kimi.baseUrl" : key.setting;
      if (!(await this.keyConsent.allows(host, { name: key.name, setting }))) return host;
    }
    return undefined;
  }

  /** The key to hand to the server: the stored one, unless it would go to a host the user refused. */
  private async keyToSend(key: string | undefined, routes: KeyRoutes): Promise<string | undefined> {
    this.keyWithheldFrom = undefined;
    if (!key) return undefined;
    const top = currentEndpointHost();
    const ordered = [top, ...routes.main.filter((host) => host !== top)];
    const refused = await this.refusedHost(ordered, { name: "Kimi API key", setting: "kimi.models / kimi.fallback" }, top);
    if (!refused) return key;
    this.keyWithheldFrom = refused;
    this.log.warn(`The API key from VS Code's secret storage was not sent to ${refused} (you chose Cancel); the server runs without it.`);
    return undefined;
  }

  /** Each endpoint variable's stored key, set in (or, refused, removed from) the server's environment. */
  private async endpointKeysTo(env: NodeJS.ProcessEnv, keys: StoredKeys, routes: KeyRoutes): Promise<string[]> {
    this.endpointKeysWithheld = {};
    const sent: string[] = [];
    for (const [name, hosts] of Object.entries(routes.endpoints)) {
      const key = keys.endpoints[name];
      if (!key) continue; // nothing stored: an inherited $name passes as the main key's variables do
      const refused = await this.refusedHost(hosts, { name: `key for ${name}`, setting: "kimi.models / kimi.fallback" });
      if (refused) {
        this.endpointKeysWithheld[name] = refused;
        delete env[name]; // refused for this host: not through the inherited environment either
        this.log.warn(`The key stored for ${name} was not sent to ${refused} (you chose Cancel); the server runs without it.`);
        continue;
      }
      env[name] = key; // only here: never in settings, initializationOptions or logs
      sent.push(name);
    }
    return sent;
  }

  private async doStart(): Promise<void> {
    if (this.disposed) return;
    if (this.current) return;
    this.setState("starting");
    const launch = readLaunchSettings();
    const routes = currentKeyRoutes();
    const stored = await this.storedKeys(routes);
    this.fingerprint = this.startFingerprint(stored);
    const key = await this.keyToSend(stored.main, routes);
    const { command, args } = launchCommand(launch);
    this.restricted = !this.trust.trusted;
    // Untrusted: the server runs outside the workspace (no folder, no document, cwd elsewhere).
    const cwd = this.restricted ? os.tmpdir() : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const found = findExecutable(command, process.env, isExecutable, process.platform);
    if (!found) {
      this.fail(notFoundReason(command), new Error(`spawn ${command} ENOENT`));
      return;
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (this.keyWithheldFrom) {
      // Refused for this host: not through the inherited environment either.
      delete env.MOONSHOT_API_KEY;
      delete env.KIMI_API_KEY;
    }
    if (key) env.MOONSHOT_API_KEY = key; // only here: never in settings, initializationOptions or logs
    const endpointKeys = await this.endpointKeysTo(env, stored, routes);
    // Again, with the answers the user just gave about hosts: a restart queued behind this start
    // (the key's change event, then the command's own) then sees nothing changed.
    this.fingerprint = this.startFingerprint(stored);
    for (const problem of routes.problems) this.log.warn(`No key from secret storage for ${problem}.`);
    const serverOptions: ServerOptions = {
      command: found,
      args,
      transport: TransportKind.stdio,
      options: { env, cwd },
    };
    const client = new KimiLanguageClient(serverOptions, this.clientOptions(), this.restricted);
    for (const method of this.handlers.keys()) {
      client.onNotification(method, (params) => this.dispatch(method, params));
    }
    client.onDidChangeState((e) => {
      if (this.current !== client) return;
      if (e.newState === State.Running) this.setState("running");
      else if (e.newState === State.Stopped && this.state === "running") this.setState("stopped");
    });
    this.current = client;
    const from = key ? " (API key from VS Code's secret storage)" : this.keyWithheldFrom ? ` (API key withheld from ${this.keyWithheldFrom})` : "";
    const others = endpointKeys.length ? ` (endpoint keys from VS Code's secret storage: ${endpointKeys.join(", ")})` : "";
    const mode = this.restricted ? " in Restricted Mode (no workspace folder, no document)" : "";
    this.log.info(`Starting the Kimi server${mode}: ${[found, ...args, "--stdio"].join(" ")}${from}${others}`);
    try {
      await client.start();
      this.setState("running");
      this.settleReady.resolve();
    } catch (error) {
      if (this.current === client) this.current = undefined;
      await client.dispose().catch(() => undefined);
      this.fail(`it did not start`, error);
    }
  }

  /** Sends the current settings to the running server (after a change that is not a setting, e.g. a snooze). */
  async pushSettings(): Promise<void> {
    const client = this.current;
    if (!client || client.state !== State.Running) return;
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { kimi: currentServerSettings() } });
  }

  /** Whether the running server was started without the workspace (Restricted Mode). */
  get restrictedMode(): boolean {
    return this.restricted;
  }

  private fail(what: string, error: unknown): void {
    const detail = error instanceof Error ? error.message : String(error);
    this.log.error(`The Kimi server could not be started (${what}): ${detail}`);
    this.setState("failed");
    this.settleReady.reject(new Error(`The Kimi server could not be started: ${detail}`));
    const fix = "Install it with 'pip install kimi-lsp' (or pipx), or set kimi.server.command / kimi.server.pythonPath.";
    void vscode.window
      .showErrorMessage(`Kimi: the language server could not be started (${what}). ${fix}`, "Open Settings", "Show Log")
      .then((choice) => {
        if (choice === "Open Settings") {
          void vscode.commands.executeCommand("workbench.action.openSettings", "kimi.server");
        } else if (choice === "Show Log") {
          this.log.show();
        }
      });
  }

  private clientOptions(): LanguageClientOptions {
    const extra = this.extraMiddleware(this);
    const middleware: Middleware = {
      ...extra,
      workspace: {
        ...extra.workspace,
        // Restricted Mode: the server is told of no folder, now or later.
        workspaceFolders: (token, next) => (this.restricted ? null : next(token)),
        didChangeWorkspaceFolders: (event, next) => (this.restricted ? Promise.resolve() : next(event)),
        // Nor of the workspace's files changing (the server's watcher registration is "**/*").
        didChangeWatchedFile: (event, next) => (this.restricted ? Promise.resolve() : next(event)),
        // The server pulls the `kimi` section: answer with the user's values only, no client-only keys.
        configuration: async (params, token, next) => {
          const result = await next(params, token);
          if (!Array.isArray(result)) return result;
          return params.items.map((item, i) =>
            item.section === "kimi" ? currentServerSettings() : withoutSecrets(result[i]),
          );
        },
        // Pushed settings carry the same object (and never an apiKey someone put in settings.json).
        didChangeConfiguration: async () => {
          const client = this.current;
          if (!client) return;
          await client.sendNotification(DidChangeConfigurationNotification.type, {
            settings: { kimi: currentServerSettings() },
          });
        },
      },
    };
    return {
      // Restricted Mode syncs no document: the server holds nothing of the workspace.
      documentSelector: this.restricted ? [] : [{ scheme: "file" }, { scheme: "untitled" }],
      synchronize: { configurationSection: "kimi" },
      initializationOptions: () => currentServerSettings(),
      outputChannel: this.log,
      traceOutputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      stdioOptions: {
        stdout: () => undefined, // stdout carries the protocol
        stderr: (input, channel) => {
          readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on("line", (line) => {
            if (!line.trim()) return;
            const level = stderrLevel(line);
            if (level === "debug") channel.debug(line);
            else if (level === "trace") channel.trace(line);
            else channel.error(line);
          });
        },
      },
      middleware,
    };
  }

  dispose(): void {
    this.disposed = true;
    this.disposables.forEach((d) => d.dispose());
    void this.doStop();
    this.stateEmitter.dispose();
  }
}
