package dev.vexxy.textfmt;

/** The "textfmt" test library (dev.vexxy.test:textfmt): the java-jars service calls it on /greet. */
public final class Banner {
  private Banner() {}

  public static String box(String text) {
    String bar = "+" + "-".repeat(text.length() + 2) + "+";
    return bar + "\n| " + text + " |\n" + bar + "\n";
  }
}
