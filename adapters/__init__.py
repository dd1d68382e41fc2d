"""One package per outside system: port.py (Protocol, types, errors) and simulator.py (the in-project
stand-in that behaves like the real system: own tables, idempotency, latency and injectable faults)."""
