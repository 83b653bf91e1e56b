"""Pure edit machinery for inline edits: reply extraction, minimal diffs, rebasing, validation."""
