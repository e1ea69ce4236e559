package dev.vexxy.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The java-jars test service (com.sun.net.httpserver). Class path: /srv/app.jar,
 * /srv/lib/textfmt-1.4.2.jar (classes loaded by the /greet handler, which the test script calls) and
 * /srv/lib/csvkit-0.9.1.jar (classes needed only by /export, which nothing calls).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8090"));
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
    server.createContext("/health", ex -> send(ex, 200, "{\"service\": \"java-jars\", \"ok\": true}\n"));
    server.createContext("/greet", Main::greet);
    server.createContext("/export", Export::handle);
    server.start();
    System.out.println("listening on " + port);
  }

  private static void greet(HttpExchange ex) throws IOException {
    String who = ex.getRequestURI().getPath().replaceFirst("^/greet/?", "");
    send(ex, 200, dev.vexxy.textfmt.Banner.box("hello " + (who.isEmpty() ? "world" : who)));
  }

  static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
