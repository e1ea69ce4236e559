/** An input document is not in a format the engine reads, or is malformed for the format it claims. */
export class InputFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputFormatError";
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
