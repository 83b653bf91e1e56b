// A small syntax highlighter for chat code blocks: comments, strings, numbers and keywords as escaped spans.

import { escapeHtml } from "./html";

const COMMON = [
  "if", "else", "for", "while", "do", "return", "break", "continue", "switch", "case", "default",
  "try", "catch", "finally", "throw", "new", "class", "import", "export", "from", "as", "in",
  "true", "false", "null", "async", "await", "yield", "static", "public", "private", "protected",
];
const KEYWORDS: Record<string, string[]> = {
  python: ["def", "lambda", "pass", "with", "elif", "except", "raise", "is", "not", "and", "or",
    "None", "True", "False", "global", "nonlocal", "assert", "del", "match", "self"],
  js: ["function", "const", "let", "var", "typeof", "instanceof", "this", "undefined", "of",
    "interface", "type", "enum", "extends", "implements", "readonly", "void", "delete", "super"],
  go: ["func", "package", "var", "const", "type", "struct", "interface", "map", "chan", "go",
    "defer", "select", "range", "nil", "fallthrough"],
  rust: ["fn", "let", "mut", "pub", "impl", "trait", "struct", "enum", "match", "mod", "use",
    "crate", "self", "Self", "where", "loop", "move", "ref", "unsafe", "dyn", "None", "Some", "Ok", "Err"],
  c: ["int", "char", "void", "long", "short", "unsigned", "signed", "struct", "union", "typedef",
    "sizeof", "const", "auto", "template", "typename", "namespace", "using", "nullptr", "bool"],
  shell: ["then", "fi", "esac", "done", "function", "local", "export", "echo", "elif"],
  lua: ["function", "local", "end", "then", "elseif", "nil", "not", "and", "or", "repeat", "until"],
};
const ALIASES: Record<string, string> = {
  py: "python", python: "python", js: "js", javascript: "js", ts: "js", typescript: "js",
  tsx: "js", jsx: "js", java: "js", go: "go", golang: "go", rs: "rust", rust: "rust",
  c: "c", cpp: "c", "c++": "c", h: "c", hpp: "c", cs: "c", sh: "shell", bash: "shell",
  zsh: "shell", shell: "shell", lua: "lua",
};
const HASH_COMMENTS = new Set(["python", "shell"]);

/** The language family used for `lang` (a fence's info string), or undefined when unknown. */
export function family(lang: string): string | undefined {
  return ALIASES[lang.trim().toLowerCase()];
}

/** Highlight `code` as HTML: every character escaped, known tokens wrapped in `<span class="tok-…">`. */
export function highlight(code: string, lang: string): string {
  const fam = family(lang);
  if (!fam) {
    return escapeHtml(code);
  }
  const words = new Set([...COMMON, ...(KEYWORDS[fam] ?? [])]);
  const comment = HASH_COMMENTS.has(fam) ? "#[^\\n]*" : fam === "lua" ? "--[^\\n]*" : "\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?(?:\\*\\/|$)";
  const strings = fam === "python" ? `"""[\\s\\S]*?(?:"""|$)|'''[\\s\\S]*?(?:'''|$)|` : "";
  const template = fam === "js" ? "|`(?:\\\\[\\s\\S]|[^`\\\\])*`?" : "";
  const pattern = new RegExp(
    `(${comment})|(${strings}"(?:\\\\.|[^"\\\\\\n])*"?|'(?:\\\\.|[^'\\\\\\n])*'?${template})|(\\b\\d[\\d_]*(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b|\\b0[xX][0-9a-fA-F]+\\b)|([A-Za-z_][A-Za-z0-9_]*)`,
    "g",
  );
  let out = "";
  let last = 0;
  for (const match of code.matchAll(pattern)) {
    const index = match.index ?? 0;
    out += escapeHtml(code.slice(last, index));
    const [text, com, str, num, word] = match;
    if (com) {
      out += span("com", text);
    } else if (str) {
      out += span("str", text);
    } else if (num) {
      out += span("num", text);
    } else if (word && words.has(word)) {
      out += span("kw", text);
    } else {
      out += escapeHtml(text);
    }
    last = index + text.length;
  }
  return out + escapeHtml(code.slice(last));
}

function span(kind: string, text: string): string {
  return `<span class="tok-${kind}">${escapeHtml(text)}</span>`;
}
