package dev.vexxy.csvkit;

import java.util.List;

/** The "csvkit" test library (dev.vexxy.test:csvkit): only the /export route uses it, and no test calls /export. */
public final class CsvWriter {
  private CsvWriter() {}

  public static String row(List<String> cells) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) out.append(',');
      out.append('"').append(cells.get(i).replace("\"", "\"\"")).append('"');
    }
    return out.append("\r\n").toString();
  }
}
