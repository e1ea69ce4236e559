# The test script the e2e submits for node-deps (runs in the prober image, in the target's netns).
# /render is the route whose handler requires escape-html.
curl -fsS http://localhost:3000/health && curl -fsS 'http://localhost:3000/render?text=%3Cb%3Ehi%3C%2Fb%3E'
