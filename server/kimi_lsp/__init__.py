"""kimi-lsp: a language server that puts the kimi-k2.6 model behind every editor."""

__version__ = "0.1.0"
