"""The shell-entry test service: a tiny HTTP server started by a #!/bin/bash entrypoint script.

Uses python3.11-minimal (the interpreter), libpython3.11-minimal (socket.py and friends) and libc6.
Never used: libsqlite3-0, bzip2, libbz2-1.0, dash and gzip (see truth.json).
"""
import os
import signal
import socket
import sys

PORT = int(os.environ.get("PORT", "8080"))


def stop(_signum, _frame):
    # PID 1 in a PID namespace ignores SIGTERM unless it installs a handler.
    sys.exit(0)


def respond(conn):
    request = conn.recv(4096).decode("latin-1")
    line = request.split("\r\n", 1)[0]
    parts = line.split(" ")
    path = parts[1] if len(parts) > 1 else "/"
    body = ('{"service": "shell-entry", "path": "%s"}\n' % path.replace('"', "")).encode()
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    conn.sendall((head % len(body)).encode() + body)


def main():
    signal.signal(signal.SIGTERM, stop)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", PORT))
    server.listen(16)
    print("listening on %d" % PORT, flush=True)
    while True:
        conn, _ = server.accept()
        try:
            respond(conn)
        except OSError:
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
