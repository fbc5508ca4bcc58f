/**
 * Where webhooks may go: the gateway POSTs to URLs partners give it, so a URL must not make it
 * reach its own network (loopback, private, link-local such as the cloud metadata service at
 * 169.254.169.254, unique-local, unspecified, multicast, reserved and documentation ranges,
 * IPv4 and IPv6; an IPv4-mapped IPv6 address, `::ffff:127.0.0.1` or `[::ffff:7f00:1]`, is judged
 * as the IPv4 address it maps). Checked twice: the URL when it is registered (IP literals and `localhost`),
 * and every address its host resolves to when a delivery is sent (a DNS name can point
 * anywhere, and change between the check and the connection: the sender connects to the
 * address it checked). Plain `http://` to the loopback host is allowed only on the local
 * development mode (GATEWAY_MODE=development). Pure, apart from `node:net`'s address parsing.
 */
import { BlockList, isIP } from "node:net";

/** Ranges no webhook may reach (an IPv4-mapped IPv6 address is checked as the IPv4 address it maps: see `unmapped`). */
const NOT_PUBLIC: ReadonlyArray<readonly [string, number, "ipv4" | "ipv6"]> = [
  ["0.0.0.0", 8, "ipv4"], // "this network", 0.0.0.0 unspecified
  ["10.0.0.0", 8, "ipv4"], // private
  ["100.64.0.0", 10, "ipv4"], // carrier-grade NAT
  ["127.0.0.0", 8, "ipv4"], // loopback
  ["169.254.0.0", 16, "ipv4"], // link-local (cloud metadata)
  ["172.16.0.0", 12, "ipv4"], // private
  ["192.0.0.0", 24, "ipv4"], // IETF protocol assignments
  ["192.0.2.0", 24, "ipv4"], // documentation
  ["192.88.99.0", 24, "ipv4"], // 6to4 relay anycast
  ["192.168.0.0", 16, "ipv4"], // private
  ["198.18.0.0", 15, "ipv4"], // benchmarking
  ["198.51.100.0", 24, "ipv4"], // documentation
  ["203.0.113.0", 24, "ipv4"], // documentation
  ["224.0.0.0", 4, "ipv4"], // multicast
  ["240.0.0.0", 4, "ipv4"], // reserved, broadcast
  // Not ::/8 as a whole: node's BlockList checks IPv4 addresses as IPv4-mapped (::ffff:0:0/96), inside it.
  ["::", 96, "ipv6"], // unspecified, loopback, IPv4-compatible (deprecated)
  ["::ffff:0:0:0", 96, "ipv6"], // IPv4-translated (SIIT): reaches an IPv4 address through a translator
  ["64:ff9b::", 96, "ipv6"], // NAT64 (reaches IPv4 addresses through a translator)
  ["64:ff9b:1::", 48, "ipv6"], // local-use NAT64
  ["100::", 64, "ipv6"], // discard
  ["2001::", 23, "ipv6"], // IETF protocol assignments (Teredo, ORCHID, ...)
  ["2001:db8::", 32, "ipv6"], // documentation
  ["2002::", 16, "ipv6"], // 6to4 (embeds an IPv4 address)
  ["3fff::", 20, "ipv6"], // documentation
  ["fc00::", 7, "ipv6"], // unique-local
  ["fe80::", 10, "ipv6"], // link-local
  ["fec0::", 10, "ipv6"], // site-local (deprecated)
  ["ff00::", 8, "ipv6"], // multicast
];

const LOOPBACK: ReadonlyArray<readonly [string, number, "ipv4" | "ipv6"]> = [
  ["127.0.0.0", 8, "ipv4"],
  ["::1", 128, "ipv6"],
];

function blockListOf(ranges: ReadonlyArray<readonly [string, number, "ipv4" | "ipv6"]>): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

const notPublic = blockListOf(NOT_PUBLIC);
const loopback = blockListOf(LOOPBACK);

const familyOf = (address: string): "ipv4" | "ipv6" | undefined => {
  const v = isIP(address);
  return v === 4 ? "ipv4" : v === 6 ? "ipv6" : undefined;
};

/** An IPv6 address (already valid, per `isIP`) as its eight 16-bit groups. */
function groupsOf(address: string): number[] {
  const [head, tail] = address.split("::");
  const parse = (text: string | undefined): number[] =>
    (text ? text.split(":") : []).flatMap((g) => {
      if (!g.includes(".")) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split(".").map(Number);
      return [(a << 8) | b, (c << 8) | d]; // a dotted IPv4 tail is the last two groups
    });
  const left = parse(head);
  const right = parse(tail);
  return tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The IPv4 address an IPv4-mapped IPv6 address (::ffff:0:0/96, in either spelling:
 * `::ffff:127.0.0.1` or `::ffff:7f00:1`) stands for, or the address as it is. A socket to
 * `::ffff:127.0.0.1` reaches 127.0.0.1, so the mapped form is judged as the IPv4 address,
 * explicitly (not left to how `BlockList` happens to treat mapped addresses).
 */
export function unmapped(address: string): string {
  if (isIP(address) !== 6) return address;
  const g = groupsOf(address);
  if (!(g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff)) return address;
  return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff].join(".");
}

/** Whether an IP address (v4 or v6, without brackets) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const plain = unmapped(address);
  const family = familyOf(plain);
  return family !== undefined && !notPublic.check(plain, family);
}

export function isLoopbackAddress(address: string): boolean {
  const plain = unmapped(address);
  const family = familyOf(plain);
  return family !== undefined && loopback.check(plain, family);
}

/** A URL's hostname without IPv6 brackets or a trailing dot, lower case. */
export function bareHost(hostname: string): string {
  const h = hostname.toLowerCase();
  const unbracketed = h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
  return unbracketed.endsWith(".") ? unbracketed.slice(0, -1) : unbracketed;
}

const isLocalhostName = (host: string): boolean => host === "localhost" || host.endsWith(".localhost");

/** Whether the host names the loopback interface (`localhost`, 127.0.0.0/8, ::1). */
export function isLoopbackHost(hostname: string): boolean {
  const host = bareHost(hostname);
  return isLocalhostName(host) || isLoopbackAddress(host);
}

export interface WebhookUrlPolicy {
  /** Plain http to the loopback host (development mode only). */
  allowLoopbackHttp: boolean;
}

/** Why a webhook URL is refused at registration, or undefined when it is acceptable. */
export function webhookUrlProblem(url: string, policy: WebhookUrlPolicy): string | undefined {
  if (!URL.canParse(url)) return "must be an absolute URL";
  const u = new URL(url);
  if (u.username || u.password) return "must not carry credentials";
  const host = bareHost(u.hostname);
  if (u.protocol === "http:") {
    if (!isLoopbackHost(host)) return "must be an https URL (plain http only to 127.0.0.1 or localhost, in development mode)";
    if (!policy.allowLoopbackHttp) return "plain http to the loopback host is allowed only in development mode (GATEWAY_MODE=development); use https";
    return undefined;
  }
  if (u.protocol !== "https:") return "must be an https URL";
  if (isLocalhostName(host)) return "must not point at the gateway's own host (localhost)";
  if (familyOf(host) !== undefined && !isPublicAddress(host)) {
    return "must not point at a loopback, private, link-local, unique-local, multicast or reserved address";
  }
  return undefined;
}

/**
 * Whether a delivery to `url` may connect to `address` (one its host resolved to): a public
 * address always; a loopback one only for a plain-http loopback URL under the local policy.
 */
export function mayConnect(url: URL, address: string, policy: WebhookUrlPolicy): boolean {
  if (isPublicAddress(address)) return true;
  return policy.allowLoopbackHttp && url.protocol === "http:" && isLoopbackHost(url.hostname) && isLoopbackAddress(address);
}
