"""Real HTTP servers on 127.0.0.1 that play the messengers' APIs in tests and benchmarks."""
