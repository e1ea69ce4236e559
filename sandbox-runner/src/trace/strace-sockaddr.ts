/** Decodes the sockaddr structures strace prints for connect/accept/bind. */
import type { ConnectionEvent } from "./types.js";

export interface SockAddr {
  family: ConnectionEvent["family"];
  address: string;
  port?: number;
}

export function parseSockaddr(arg: string): SockAddr | null {
  if (!arg.startsWith("{sa_family=")) return null;
  const family = /^\{sa_family=(\w+)/.exec(arg)?.[1];
  if (family === "AF_INET") {
    const port = /sin_port=htons\((\d+)\)/.exec(arg);
    const addr = /sin_addr=inet_addr\("([^"]*)"\)/.exec(arg);
    return { family: "inet", address: addr?.[1] ?? "", ...(port ? { port: Number(port[1]) } : {}) };
  }
  if (family === "AF_INET6") {
    const port = /sin6_port=htons\((\d+)\)/.exec(arg);
    const addr = /inet_pton\(AF_INET6, "([^"]*)"/.exec(arg);
    return { family: "inet6", address: addr?.[1] ?? "", ...(port ? { port: Number(port[1]) } : {}) };
  }
  if (family === "AF_UNIX") {
    // sun_path="/run/x" for a path, sun_path=@"name" for the abstract namespace.
    const path = /sun_path=(@?)"((?:[^"\\]|\\.)*)"/.exec(arg);
    return { family: "unix", address: path ? path[1]! + path[2]! : "" };
  }
  return { family: "other", address: family ?? "" };
}
