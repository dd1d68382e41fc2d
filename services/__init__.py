"""Use cases behind the API and the CLI; the only code that holds a Temporal client."""
