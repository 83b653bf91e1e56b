"""Unit tests for JS/TS outlines: arrow functions however their parameters are written,
values that only look like them, and TS overload signatures."""

from __future__ import annotations

import pytest

from kimi_lsp.context.symbols import Symbol, definition_text, outline


def rows(text: str, language: str = "typescript") -> list[tuple[str, str, int, int | None, int]]:
    return [(s.name, s.kind, s.line, s.end_line, s.depth) for s in outline(text, language)]


# @azure/msal-common's FunctionWrappers.ts: type parameters before the parameters.
TYPE_PARAMETERS = """export const invoke = <T extends Array<any>, U>(
    callback: (...args: T) => U,
    eventName: string,
) => {
    return (...args: T): U => callback(...args);
};
const identity = <T,>(x: T): T => x;
export const pair = async <A, B extends Map<A, Set<B>>>(a: A, b: B) => [a, b];
"""


def test_arrow_functions_with_type_parameters() -> None:
    assert rows(TYPE_PARAMETERS) == [
        ("invoke", "function", 0, 5, 0),
        ("identity", "function", 6, 6, 0),
        ("pair", "function", 7, 7, 0),
    ]
    invoke = outline(TYPE_PARAMETERS, "typescript")[0]
    assert invoke.signature.startswith("export const invoke = <T extends Array<any>, U>(callback")


# globby's index.js and ignore's index.js: nested parentheses, defaults, lines crossed.
NESTED_PARAMETERS = """const directoryToGlob = async (directoryPaths, {
\tcwd = process.cwd(),
\tfiles,
} = {}) => {
\treturn directoryPaths;
};
export const setCwd = (cwd = cwdFunction()) => iTerm.setCwd(cwd);
const createRule = (
  pattern,
  mark
) => {
  return pattern;
};
const getOffsets = ({
\toneBased,
\toneBasedLine = oneBased,
}) => ({oneBasedLine});
"""
TYPED_PARAMETERS = """export const filterByIds = (
    messages: Message[],
    allow: (id: string) => boolean
): Message[] => messages.filter((m) => allow(m.id));
const isPreset = (
    value: Rule | Preset
): value is Preset => "rules" in value;
"""


@pytest.mark.parametrize("language", ["javascript", "typescript"])
def test_arrow_functions_with_nested_or_multiline_parameters(language: str) -> None:
    assert rows(NESTED_PARAMETERS, language) == [
        ("directoryToGlob", "function", 0, 5, 0),
        ("setCwd", "function", 6, 6, 0),
        ("createRule", "function", 7, 12, 0),
        ("getOffsets", "function", 13, 16, 0),
    ]
    assert rows(TYPED_PARAMETERS) == [
        ("filterByIds", "function", 0, 3, 0),
        ("isPreset", "function", 4, 6, 0),
    ]


VALUES = """const level = (() => {
\treturn 0;
})();
export const mountPoint = (() => {
\treturn "/mnt/";
})();
const sum = (a + b) * 2;
const MAX = (1 << 10);
export const el = <div>(text)</div>;
export const typed: (a: string) => void = (a) => {};
const handlers: Record<string, (e: Event) => void> = {};
"""


def test_values_in_parentheses_are_not_functions() -> None:
    # An IIFE's value is what it returns; tree-sitter calls neither a function either.
    assert rows(VALUES, "typescriptreact") == [
        ("mountPoint", "variable", 3, 5, 0),
        ("MAX", "constant", 7, 7, 0),
        ("el", "variable", 8, 8, 0),
        ("typed", "function", 9, 9, 0),
    ]


CLASS = """class Widget {
  handle = (e: {x: number}, f = g()) => { };
  private cb: (x: number) => void = (x) => {};
  onDone?: () => void = async (
    result
  ) => {};
  plain = (1 + 2);
  count: number = 0;
  render() {}
}
"""


def test_class_fields_holding_arrow_functions_are_methods() -> None:
    assert rows(CLASS) == [
        ("Widget", "class", 0, 9, 0),
        ("handle", "method", 1, 1, 1),
        ("cb", "method", 2, 2, 1),
        ("onDone", "method", 3, 5, 1),
        ("render", "method", 8, 8, 1),
    ]


OVERLOADS = """export function attr(name: string): string | undefined;
export function attr(
  name: string,
  value: string,
): Cheerio;
export function attr(name: string, value?: string): string | Cheerio | undefined {
  return name;
}
export function prop(name: string): string;
export function prop(
  name: string,
  value?: unknown,
):
  | Cheerio
  | string {
  return name;
}
declare function acquireVsCodeApi(): Api;
export declare function twice(a: string): string;
export declare function twice(a: number): number;
class Box {
  get(i: number): Item;
  get(): Item[];
  get(i?: number): Item | Item[] {
    return [];
  }
}
"""


def test_overload_signatures_give_way_to_the_implementation() -> None:
    # Resolving a name takes the first symbol of that name: the body, not a signature.
    assert rows(OVERLOADS) == [
        ("attr", "function", 5, 7, 0),
        ("prop", "function", 9, 16, 0),
        ("acquireVsCodeApi", "function", 17, 17, 0),
        ("twice", "function", 18, 18, 0),
        ("twice", "function", 19, 19, 0),
        ("Box", "class", 20, 26, 0),
        ("get", "method", 23, 25, 1),
    ]
    prop: Symbol = outline(OVERLOADS, "typescript")[1]
    assert definition_text(OVERLOADS, prop).endswith("  | string {\n  return name;\n}")
