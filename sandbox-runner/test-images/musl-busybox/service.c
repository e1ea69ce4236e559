/*
 * The musl-busybox test service: a tiny HTTP server, compiled on the host with musl-gcc and linked
 * DYNAMICALLY against musl, so its PT_INTERP is /lib/ld-musl-x86_64.so.1. That loader IS musl's
 * libc.so: the kernel maps it when it loads this program, and no open/mmap syscall ever names it.
 * Uses nothing but libc (no DT_NEEDED besides libc.so). Not owned by any package.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void stop(int sig) {
  (void)sig;
  _exit(0); /* PID 1 in a PID namespace ignores SIGTERM unless it installs a handler. */
}

int main(void) {
  const char *port_env = getenv("PORT");
  int port = port_env ? atoi(port_env) : 8081;
  signal(SIGTERM, stop);
  int server = socket(AF_INET, SOCK_STREAM, 0);
  if (server < 0) { perror("socket"); return 1; }
  int one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(server, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("bind"); return 1; }
  if (listen(server, 16) < 0) { perror("listen"); return 1; }
  printf("listening on %d\n", port);
  fflush(stdout);
  for (;;) {
    int conn = accept(server, NULL, NULL);
    if (conn < 0) continue;
    char request[4096];
    ssize_t n = read(conn, request, sizeof request - 1);
    if (n > 0) {
      request[n] = '\0';
      char path[256] = "/";
      sscanf(request, "%*s %255s", path);
      for (char *p = path; *p; p++) if (*p == '"') *p = '_';
      char body[512];
      int len = snprintf(body, sizeof body, "{\"service\": \"musl-busybox\", \"path\": \"%s\"}\n", path);
      char head[256];
      int hlen = snprintf(head, sizeof head,
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                          "Connection: close\r\n\r\n", len);
      if (write(conn, head, (size_t)hlen) == hlen) (void)!write(conn, body, (size_t)len);
    }
    close(conn);
  }
}
