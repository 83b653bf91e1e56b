// Where VS Code's other language servers say the identifiers near the cursor are defined, as a request's `definitions`.

import * as vscode from "vscode";
import { DEFAULT_TIMEOUT_MS, DefinitionCache, gatherDefinitions, type Location, type LookupKind, type ProviderLocation } from "../pure/definitions";
import { pickIdentifiers, windowOf, type Focus, type Point, type Probe } from "../pure/identifiers";

const COMMANDS: Record<LookupKind, string> = {
  definition: "vscode.executeDefinitionProvider",
  typeDefinition: "vscode.executeTypeDefinitionProvider",
};

/** Kept for the test API: what the last requests carried. */
const SENT_KEPT = 20;

export interface SentDefinitions {
  method: string;
  uri?: string;
  definitions: Location[];
  /** Why none were looked up, when none were. */
  skipped?: string;
}

function settings(): { enabled: boolean; timeoutMs: number } {
  const config = vscode.workspace.getConfiguration("kimi.editorDefinitions");
  const timeout = config.get<number>("timeoutMs", DEFAULT_TIMEOUT_MS);
  return {
    enabled: config.get<boolean>("enabled", true),
    timeoutMs: Number.isFinite(timeout) ? Math.min(Math.max(0, timeout), 5000) : DEFAULT_TIMEOUT_MS,
  };
}

export class EditorDefinitions {
  private readonly cache = new DefinitionCache();
  private readonly sentLog: SentDefinitions[] = [];

  constructor(private readonly log: { trace(message: string): void }) {}

  /** What the last requests carried (most recent last). */
  sent(): SentDefinitions[] {
    return this.sentLog.map((s) => ({ ...s, definitions: s.definitions.map((d) => ({ ...d })) }));
  }

  /**
   * Adds `definitions` to `params` for a request about `document` at `focus` (the selection, else the
   * cursor). Never throws and never takes much longer than the time cap: a lookup that fails or is
   * late is left out.
   */
  async attach(method: string, params: Record<string, unknown>, document: vscode.TextDocument | undefined, focus: Focus | undefined): Promise<void> {
    const record = (entry: SentDefinitions) => {
      this.sentLog.push(entry);
      if (this.sentLog.length > SENT_KEPT) this.sentLog.shift();
    };
    const { enabled, timeoutMs } = settings();
    const skipped = !enabled ? "turned off (kimi.editorDefinitions.enabled)" : !document || !focus ? "no document or cursor" : undefined;
    if (skipped || !document || !focus) {
      record({ method, uri: document?.uri.toString(), definitions: [], skipped });
      return;
    }
    const started = Date.now();
    try {
      const definitions = await this.lookUp(method, document, focus, timeoutMs, started);
      if (definitions.length > 0) params.definitions = definitions;
      record({ method, uri: document.uri.toString(), definitions });
    } catch (error) {
      this.log.trace(`editor definitions for ${method}: left out (${error instanceof Error ? error.message : String(error)})`);
      record({ method, uri: document.uri.toString(), definitions: [], skipped: "failed" });
    }
  }

  private async lookUp(method: string, document: vscode.TextDocument, focus: Focus, timeoutMs: number, started: number): Promise<Location[]> {
    const probes = pickIdentifiers((line) => document.lineAt(line).text, document.lineCount, focus, document.languageId);
    if (probes.length === 0) return [];
    const resolve = (kind: LookupKind, probe: Probe) =>
      vscode.commands.executeCommand<ProviderLocation[]>(COMMANDS[kind], document.uri, new vscode.Position(probe.line, probe.character));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((done) => (timer = setTimeout(done, timeoutMs)));
    const target = { uri: document.uri.toString(), version: document.version, window: windowOf(focus, document.lineCount) };
    try {
      const gathered = await gatherDefinitions(target, probes, resolve, this.cache, deadline);
      this.log.trace(
        `editor definitions for ${method}: ${probes.length} identifiers, ${gathered.answered} of ${gathered.asked} lookups answered ` +
          `(${gathered.cached} cached, ${gathered.unanswered} failed or over ${timeoutMs} ms) in ${Date.now() - started} ms; ` +
          `${gathered.locations.length} location(s) sent`,
      );
      return gathered.locations;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The focus of `editor` when it shows the document: its selection, else its cursor. */
export function editorFocus(editor: vscode.TextEditor | undefined, uri: string): Focus | undefined {
  if (!editor || editor.document.uri.toString() !== uri) return undefined;
  return focusOf(editor.selection);
}

/** A focus from a selection-like range (its active end is the cursor). */
export function focusOf(selection: { start: Point; end: Point; active?: Point }): Focus {
  const plain = (p: Point) => ({ line: p.line, character: p.character });
  const cursor = plain(selection.active ?? selection.start);
  const empty = selection.start.line === selection.end.line && selection.start.character === selection.end.character;
  return empty ? { cursor } : { cursor, selection: { start: plain(selection.start), end: plain(selection.end) } };
}

/** The open document with this URI, if any (requests about files not open carry no definitions). */
export function openDocument(uri: string | undefined): vscode.TextDocument | undefined {
  return uri ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri) : undefined;
}
