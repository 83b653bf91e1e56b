"""Edit prediction: ghost text by prefix continuation, next edits from the edit history."""
