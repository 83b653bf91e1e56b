"""The language-server layer: the only package that imports pygls or lsprotocol."""
