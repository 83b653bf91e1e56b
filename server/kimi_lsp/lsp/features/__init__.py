"""The LSP layer: one module per feature, each with a `register(server)` function."""
