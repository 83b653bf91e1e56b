"""`python -m kimi_lsp`: the same entry point as the `kimi-lsp` console script."""

from .cli.main import main

raise SystemExit(main())
