/**
 * The network a client address stands for, as counted by throttles and rate limits: IPv4 per
 * address, IPv6 per /64 (RFC 4291 §2.5.4: one subnet, usually one customer, who can pick any
 * address in it at will). Addresses that do not parse are counted as they are.
 */
export function clientNetwork(address: string): string {
  if (!address.includes(':')) return address;
  const [head] = address.split('%');
  const groups = expandIpv6(head ?? '');
  return groups === null ? address : `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(a: string): string[] | null {
  if (a.includes('.')) return null; // IPv4-mapped: leave as it is
  const [left, right] = a.split('::');
  const l = left ? left.split(':') : [];
  const r = right !== undefined && right !== '' ? right.split(':') : [];
  const missing = 8 - l.length - r.length;
  if (missing < 0 || (right === undefined && missing !== 0)) return null;
  return [...l, ...Array<string>(missing).fill('0'), ...r].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
