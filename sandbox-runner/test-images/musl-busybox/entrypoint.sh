#!/bin/sh
# The musl-busybox image's entrypoint. /bin/sh is a symlink to /bin/busybox (busybox-static), the only
# shell in the image; the kernel runs it through the shebang, so no execve ever names it. Only shell
# builtins run here, then `exec` replaces busybox with the service.
: "${PORT:=8081}"
export PORT
echo "[entrypoint] $0 under /bin/sh (busybox), exec /srv/service on port ${PORT}"
exec /srv/service
