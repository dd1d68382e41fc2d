"""The `nongedai` command: run the whole platform locally, or one part of it."""
