"""The kimi-k2.6 model client: streamed calls, retries, queueing, usage and typed errors.

Import what you need from the submodules (`model.client`, `model.types`, ...): this package
imports nothing itself, so that reading `model.types` never loads the HTTP stack.
"""
