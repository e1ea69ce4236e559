package dev.vexxy.app;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.util.List;

/** The /export route: the only user of csvkit. The test script never calls it. */
final class Export {
  private Export() {}

  static void handle(HttpExchange ex) throws IOException {
    Main.send(ex, 200, dev.vexxy.csvkit.CsvWriter.row(List.of("path", ex.getRequestURI().getPath())));
  }
}
