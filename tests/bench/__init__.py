"""The benchmark: how fast and how small the bot is, side by side with an echo floor (issue 6).

Run it with `make bench` (full run, about two minutes) or `python -m tests.bench --smoke` (a few
seconds; `tests/bench/test_smoke.py` runs that in the test suite). See docs/benchmark.md.

Modules:
- `redisenv`  finding or starting Redis, the run's key prefix and clean-up, commandstats/MEMORY USAGE
- `workload`  conversation journeys made by the real engine, turned into signed LINE webhook bodies
- `sink`      the fake LINE Messaging API: a raw asyncio HTTP responder that timestamps each reply
- `loadgen`   the load generator: raw asyncio HTTP/1.1 keep-alive client, closed and open loop
- `servers`   the servers under test in their own uvicorn processes (CPU placement, CPU accounting)
- `apps`      uvicorn factories: the product's app, and the benchmark-only echo app
- `engine`    the engine alone (turns/s, no I/O) and the start-up time of `taikai-bot chat`
- `report`    the table and the JSON file
"""
