"""The refactor agent: confined tools over an overlay, the tool-calling loop and fan-out."""
