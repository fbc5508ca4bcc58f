/**
 * Asking a JSON-RPC URL for its chain id directly, before an ethers provider is made: an
 * unreachable or wrong URL is then an error at once (ethers would retry network detection
 * forever), and the provider can be given a static network. Used by the gateway and by the
 * auditor's CLI.
 */

/**
 * The chain id the node at `rpcUrl` answers. The probe is retried `retries` times on a reset
 * connection (a pooled keep-alive socket the node closed as it was reused).
 */
export async function probeChainId(rpcUrl: string, timeoutMs = 10_000, retries = 1): Promise<bigint> {
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { result?: string };
    if (typeof body.result !== "string") throw new Error(`unexpected answer to eth_chainId (HTTP ${response.status})`);
    return BigInt(body.result);
  } catch (error) {
    const inner = (error as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
    const cause = inner?.code ?? inner?.errors?.[0]?.code;
    if ((cause === "ECONNRESET" || cause === "UND_ERR_SOCKET") && retries > 0) return probeChainId(rpcUrl, timeoutMs, retries - 1);
    throw new Error(`the RPC URL does not answer eth_chainId${cause ? ` (${cause})` : `: ${(error as Error).message}`}`);
  }
}
