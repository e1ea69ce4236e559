#!/bin/bash
# The shell-entry image's entrypoint. The kernel runs it through the shebang: nothing calls execve on
# /bin/bash, and bash's own loader (PT_INTERP ld-linux-x86-64.so.2 of libc6) is mapped by the kernel
# too. Only builtins run here, then `exec` replaces bash with the service.
set -euo pipefail
: "${PORT:=8080}"
export PORT
# BASH_VERSION is set by bash alone: the line in the container log shows which shell ran this file.
echo "[entrypoint] $0 under bash ${BASH_VERSION}, exec python3 /srv/app.py on port ${PORT}"
exec python3 /srv/app.py
