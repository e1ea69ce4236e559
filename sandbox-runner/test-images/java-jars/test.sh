# The test script the e2e submits for java-jars (runs in the prober image, in the target's netns).
# /greet runs textfmt's code; /export (csvkit) is deliberately not called.
curl -fsS http://localhost:8090/health && curl -fsS http://localhost:8090/greet/vexxy
