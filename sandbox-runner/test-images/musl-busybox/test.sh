# The test script the e2e submits for musl-busybox (runs in the prober image, in the target's netns).
curl -fsS http://localhost:8081/health && curl -fsS http://localhost:8081/items/42
