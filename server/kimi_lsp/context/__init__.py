"""The context engine: what goes into a prompt, counted and explained (no LSP imports)."""
