import { sha256Hex, toHex } from './hash.ts';

const encoder = new TextEncoder();

/** What the gateway keeps of a node's secret token, and the key of the node's proofs. */
export function nodeVerifier(token: string): Promise<string> {
  return sha256Hex(encoder.encode(token));
}

/**
 * The answer to the gateway's challenge: HMAC-SHA256 under the node's verifier of the node id and
 * the gateway's fresh nonce. Neither the token nor the verifier crosses the wire, and a proof is
 * worth nothing for any other nonce. WebCrypto, so browsers and Node compute it alike.
 */
export async function nodeProof(verifier: string, nodeId: string, nonce: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', fromHex(verifier), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`shoal-node-proof\u0000${nodeId}\u0000${nonce}`));
  return toHex(new Uint8Array(mac));
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
