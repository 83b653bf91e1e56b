"""Tokenizers (Kimi BPE, bundled fallback), calibration, download and counting threads."""
