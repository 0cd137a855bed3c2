"""Development tools: the project's own Kafka broker launcher, the simulator, the demo and the
worker subprocess the demo, benchmarks and tests share."""
