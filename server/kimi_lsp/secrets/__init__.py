"""Secret files and secret-looking strings: what never leaves the machine in a prompt."""
