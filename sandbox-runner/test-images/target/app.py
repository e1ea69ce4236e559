"""The "target" test service: a tiny HTTP server whose runtime use of Debian packages is known.

Used at runtime: python3.11-minimal (the interpreter), libpython3.11-minimal (socket, hashlib, ...),
libssl3 (libcrypto.so.3, mapped executable when `import hashlib` loads the _hashlib extension),
zlib1g and libexpat1 (DT_NEEDED of the interpreter), libc6.
Installed but never used: libsqlite3-0 and bzip2 (and most of the minbase system).
"""
import hashlib
import signal
import socket
import sys

PORT = 8080


def stop(_signum, _frame):
    # PID 1 in a PID namespace ignores SIGTERM unless it installs a handler.
    sys.exit(0)


def respond(conn):
    request = conn.recv(4096).decode("latin-1")
    line = request.split("\r\n", 1)[0]
    parts = line.split(" ")
    path = parts[1] if len(parts) > 1 else "/"
    digest = hashlib.sha256(path.encode()).hexdigest()
    body = ('{"path": "%s", "sha256": "%s"}\n' % (path.replace('"', ""), digest)).encode()
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
