// Syntax highlighting for chat code blocks: highlight.js core with the languages answers use, escaped spans only.

import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import lua from "highlight.js/lib/languages/lua";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { escapeHtml } from "./html";

// A handful of grammars, not the whole library: all 190 languages would add about 1 MB to the
// extension (see docs/vscode-rendering.md); these cover what a coding assistant is asked about.
const LANGUAGES = { bash, c, cpp, csharp, css, diff, go, java, javascript, json, lua, python, rust, sql, typescript, xml, yaml };
for (const [name, grammar] of Object.entries(LANGUAGES)) {
  hljs.registerLanguage(name, grammar);
}
// Names models put on fences that the grammars above do not list themselves.
hljs.registerAliases(["shell", "console", "sh", "zsh"], { languageName: "bash" });
hljs.registerAliases(["golang"], { languageName: "go" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
// Our class names (tok-keyword, tok-string…) are styled by media/chat.css with the theme's colours.
hljs.configure({ classPrefix: "tok-" });

/** The grammar used for `lang` (a fence's info string), or undefined when none is registered. */
function language(lang: string): string | undefined {
  const name = lang.trim().toLowerCase();
  return name && hljs.getLanguage(name) ? name : undefined;
}

/** Highlight `code` as HTML: every character escaped, tokens wrapped in `<span class="tok-…">`. */
export function highlight(code: string, lang: string): string {
  const name = language(lang);
  if (!name) {
    return escapeHtml(code);
  }
  // ignoreIllegals: a block cut mid-stream (an unclosed string or comment) still highlights.
  return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
}
