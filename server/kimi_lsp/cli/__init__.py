"""The command line: serve (stdio/TCP), chat, edit, context, doctor."""
