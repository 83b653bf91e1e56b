// Editor-supplied definitions: the answers of the editor's definition providers turned into the wire's
// `definitions: Location[]`, gathered under a time cap, cached per document version, filtered and deduplicated.

import { mostUsed, type Probe, type Window } from "./identifiers";
import type { Position, Range } from "./wire";

export type { Position, Range };

/** The wire's LSP Location (plain JSON). */
export interface Location {
  uri: string;
  range: Range;
}

/** What a definition provider answers: a Location or a LocationLink, URIs as objects or strings. */
export interface ProviderLocation {
  uri?: { toString(): string } | string;
  range?: Range;
  targetUri?: { toString(): string } | string;
  targetRange?: Range;
  targetSelectionRange?: Range;
}

export type LookupKind = "definition" | "typeDefinition";

/** Asks the editor where `probe` is defined; may reject or never answer in time. */
export type Resolver = (kind: LookupKind, probe: Probe) => PromiseLike<readonly ProviderLocation[] | undefined>;

export const DEFAULT_TIMEOUT_MS = 150;
export const TYPE_DEFINITION_PROBES = 4;
export const MAX_LOCATIONS = 32;

function plainRange(range: Range | undefined): Range | undefined {
  if (!range || !range.start || !range.end) return undefined;
  const { start, end } = range;
  const ok = [start.line, start.character, end.line, end.character].every((n) => Number.isInteger(n) && n >= 0);
  return ok ? { start: { line: start.line, character: start.character }, end: { line: end.line, character: end.character } } : undefined;
}

/**
 * A provider's answer as a wire Location: a LocationLink gives its whole target (the definition with
 * its body, where the server can cut a slice) rather than the name only; only `file:` URIs, which the
 * server can read, are kept.
 */
export function toLocation(found: ProviderLocation | undefined | null): Location | undefined {
  if (!found || typeof found !== "object") return undefined;
  const link = found.targetUri !== undefined;
  const uri = String(link ? found.targetUri : found.uri ?? "");
  const range = link ? (plainRange(found.targetRange) ?? plainRange(found.targetSelectionRange)) : plainRange(found.range);
  if (!uri.startsWith("file:") || !range) return undefined;
  return { uri, range };
}

function contains(range: Range, point: Position): boolean {
  const after = point.line > range.start.line || (point.line === range.start.line && point.character >= range.start.character);
  const before = point.line < range.end.line || (point.line === range.end.line && point.character <= range.end.character);
  return after && before;
}

function within(outer: Range, inner: Range): boolean {
  return contains(outer, inner.start) && contains(outer, inner.end);
}

/**
 * Locations worth sending, in order: none in the request's own document that touches the lines
 * looked at or holds the identifier itself (the current file is sent anyway), each span once, and
 * none inside another kept span of the same file (a class already holds its methods).
 */
export function usefulLocations(found: { probe: Probe; locations: Location[] }[], uri: string, window: Window, max = MAX_LOCATIONS): Location[] {
  const kept: Location[] = [];
  for (const { probe, locations } of found) {
    for (const location of locations) {
      if (location.uri === uri) {
        const { start, end } = location.range;
        if (contains(location.range, probe) || (start.line <= window.last && end.line >= window.first)) continue;
      }
      const sameFile = kept.filter((k) => k.uri === location.uri);
      if (sameFile.some((k) => within(k.range, location.range))) continue;
      // A wider span replaces the narrower ones it holds, where the first of them stood.
      const inner = sameFile.filter((k) => within(location.range, k.range));
      if (inner.length > 0) {
        const at = kept.indexOf(inner[0]);
        kept[at] = location;
        for (const k of inner.slice(1)) kept.splice(kept.indexOf(k), 1);
        continue;
      }
      kept.push(location);
    }
  }
  return kept.slice(0, max);
}

/** Answers per document version: a new version of a document drops what its old ones learned. */
export class DefinitionCache {
  private readonly documents = new Map<string, { version: number; answers: Map<string, Location[]> }>();

  constructor(private readonly maxDocuments = 16) {}

  static key(kind: LookupKind, probe: Probe): string {
    return `${kind} ${probe.name} ${probe.line}:${probe.character}`;
  }

  get(uri: string, version: number, key: string): Location[] | undefined {
    const entry = this.documents.get(uri);
    return entry && entry.version === version ? entry.answers.get(key) : undefined;
  }

  set(uri: string, version: number, key: string, locations: Location[]): void {
    let entry = this.documents.get(uri);
    if (!entry || entry.version !== version) {
      entry = { version, answers: new Map() };
    }
    // Most recently used last, so the first is the one to forget.
    this.documents.delete(uri);
    this.documents.set(uri, entry);
    entry.answers.set(key, locations);
    while (this.documents.size > this.maxDocuments) {
      this.documents.delete(this.documents.keys().next().value as string);
    }
  }

  get size(): number {
    return this.documents.size;
  }
}

/**
 * Waits for `tasks` until all have settled or `deadline` resolves, whichever is first; returns each
 * task's value, or undefined for those that failed or had not answered yet.
 */
export async function gatherUntil<T>(tasks: PromiseLike<T>[], deadline: PromiseLike<unknown>): Promise<(T | undefined)[]> {
  const values: (T | undefined)[] = tasks.map(() => undefined);
  const settled = tasks.map((task, i) =>
    Promise.resolve(task).then(
      (value) => {
        values[i] = value;
      },
      () => undefined,
    ),
  );
  await Promise.race([Promise.all(settled), deadline]);
  return [...values];
}

export interface Gathered {
  locations: Location[];
  /** Lookups asked, answered in time (the cache's answers included), from the cache, and failed or too late. */
  asked: number;
  answered: number;
  cached: number;
  unanswered: number;
}

export interface Target {
  uri: string;
  version: number;
  window: Window;
}

/**
 * Resolves `probes` (definitions of all, type definitions of the most used) in parallel until
 * `deadline`, through `cache`; answers that arrive late still fill the cache for the next request.
 * Empty answers are not cached: a language server still loading its project answers nothing yet.
 */
export async function gatherDefinitions(
  target: Target,
  probes: Probe[],
  resolve: Resolver,
  cache: DefinitionCache,
  deadline: PromiseLike<unknown>,
  typeProbes = TYPE_DEFINITION_PROBES,
): Promise<Gathered> {
  const lookups: { kind: LookupKind; probe: Probe }[] = [
    ...probes.map((probe) => ({ kind: "definition" as const, probe })),
    ...mostUsed(probes, typeProbes).map((probe) => ({ kind: "typeDefinition" as const, probe })),
  ];
  // Cached answers are taken as they are, so a deadline that has already passed still gets them.
  const known = lookups.map(({ kind, probe }) => cache.get(target.uri, target.version, DefinitionCache.key(kind, probe)));
  const misses = lookups.map((lookup, i) => ({ ...lookup, i })).filter(({ i }) => known[i] === undefined);
  const tasks = misses.map(({ kind, probe }) =>
    Promise.resolve()
      .then(() => resolve(kind, probe))
      .then((answer) => {
        const locations = (answer ?? []).map(toLocation).filter((l): l is Location => l !== undefined);
        if (locations.length > 0) cache.set(target.uri, target.version, DefinitionCache.key(kind, probe), locations);
        return locations;
      }),
  );
  const values = [...known];
  (await gatherUntil(tasks, deadline)).forEach((value, j) => (values[misses[j].i] = value));
  const found = lookups
    .map(({ probe }, i) => ({ probe, locations: values[i] ?? [] }))
    // Definitions first (in the probes' rank), then type definitions.
    .filter((f) => f.locations.length > 0);
  return {
    locations: usefulLocations(found, target.uri, target.window),
    asked: lookups.length,
    answered: values.filter((v) => v !== undefined).length,
    cached: lookups.length - misses.length,
    unanswered: values.filter((v) => v === undefined).length,
  };
}
