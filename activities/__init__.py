"""Side effects for the workflows. Thin classes whose adapters and engine arrive through __init__;
only the wiring points (worker.py, tests) choose concrete adapters."""
