"""Deterministic orchestration only. Workflow modules import nothing with I/O: activities arrive as
references imported through `workflow.unsafe.imports_passed_through()`, payloads from workflows.messages."""
