"""Chat core: conversations, slash commands and chat prompts (no LSP imports)."""
