// The identifiers a request is about: words in the selection or the lines around the cursor, ranked, without keywords or strings.

export interface Point {
  line: number;
  character: number;
}

/** What the identifiers are picked from: the selection when there is one, else the cursor's neighbourhood. */
export interface Focus {
  cursor: Point;
  selection?: { start: Point; end: Point };
}

/** One identifier to resolve, at its occurrence nearest the cursor. */
export interface Probe {
  name: string;
  line: number;
  character: number;
  /** Occurrences in the window (how much the code there uses it). */
  count: number;
  /** Lines between the nearest occurrence and the cursor. */
  distance: number;
}

/** The lines looked at (inclusive): the selection's, or `around` lines each side of the cursor. */
export interface Window {
  first: number;
  last: number;
}

export const AROUND_CURSOR = 10;
export const MAX_PROBES = 24;

// Keywords and literals of the languages people use most: asking for their definition finds nothing.
const KEYWORDS = new Set(
  (
    "abstract and as assert async await break case catch class const continue debugger declare def default del " +
    "delete do elif else enum except export extends false final finally fn for from func function global go if " +
    "impl implements import in instanceof interface is keyof lambda let loop match mod module mut namespace new " +
    "nil none nonlocal not null of or package pass private protected pub public raise readonly return satisfies " +
    "self static struct super switch this throw throws true try type typeof undefined use var void where while " +
    "with yield True False None any boolean number string unknown never object symbol bigint int float str bool " +
    "bytes char long short double unsigned signed sizeof typedef extern include define"
  ).split(" "),
);

// Languages whose line comments start with `#` (the others: `//`).
const HASH_COMMENTS = new Set(["python", "ruby", "shellscript", "perl", "r", "yaml", "toml", "makefile", "dockerfile", "elixir", "julia", "coffeescript", "powershell"]);

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/g;
const STRING = /"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`(?:[^`\\]|\\.)*`?/g;

/** `text` with string literals and the line comment blanked out (same length, so columns stay right). */
export function blankStringsAndComments(text: string, languageId = ""): string {
  const blank = (s: string) => " ".repeat(s.length);
  const noStrings = text.replace(STRING, blank);
  const marker = HASH_COMMENTS.has(languageId) ? "#" : "//";
  const at = noStrings.indexOf(marker);
  return at < 0 ? noStrings : noStrings.slice(0, at) + blank(noStrings.slice(at));
}

export function windowOf(focus: Focus, lineCount: number, around = AROUND_CURSOR): Window {
  const last = Math.max(0, lineCount - 1);
  if (focus.selection) {
    const { start, end } = focus.selection;
    // A selection ending at column 0 stops at the line before.
    const endLine = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
    return { first: Math.min(start.line, last), last: Math.min(endLine, last) };
  }
  return { first: Math.max(0, focus.cursor.line - around), last: Math.min(last, focus.cursor.line + around) };
}

/**
 * The identifiers worth resolving: each name once, at its occurrence nearest the cursor, ranked by
 * nearness then by use; keywords, numbers-only names, one-letter names, strings and comments skipped.
 */
export function pickIdentifiers(
  lineAt: (line: number) => string,
  lineCount: number,
  focus: Focus,
  languageId = "",
  max = MAX_PROBES,
): Probe[] {
  const window = windowOf(focus, lineCount);
  const found = new Map<string, Probe>();
  for (let line = window.first; line <= window.last; line++) {
    let text = blankStringsAndComments(lineAt(line), languageId);
    if (focus.selection) text = clipToSelection(text, line, focus.selection);
    for (const match of text.matchAll(IDENTIFIER)) {
      const name = match[0];
      if (name.length < 2 || KEYWORDS.has(name)) continue;
      const character = match.index ?? 0;
      const distance = Math.abs(line - focus.cursor.line);
      const seen = found.get(name);
      if (!seen) {
        found.set(name, { name, line, character, count: 1, distance });
        continue;
      }
      seen.count++;
      if (distance < seen.distance) Object.assign(seen, { line, character, distance });
    }
  }
  return [...found.values()].sort(byRank).slice(0, max);
}

function byRank(a: Probe, b: Probe): number {
  return a.distance - b.distance || b.count - a.count || a.line - b.line || a.character - b.character;
}

/** The probes used most (ties: nearest), for the costlier type-definition lookups. */
export function mostUsed(probes: Probe[], n: number): Probe[] {
  return [...probes].sort((a, b) => b.count - a.count || byRank(a, b)).slice(0, n);
}

function clipToSelection(text: string, line: number, selection: { start: Point; end: Point }): string {
  const from = line === selection.start.line ? selection.start.character : 0;
  const to = line === selection.end.line ? selection.end.character : text.length;
  return " ".repeat(from) + text.slice(from, Math.max(from, to));
}
