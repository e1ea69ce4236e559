# The test script the e2e submits for shell-entry (runs in the prober image, in the target's netns).
curl -fsS http://localhost:8080/health && curl -fsS http://localhost:8080/items/42
