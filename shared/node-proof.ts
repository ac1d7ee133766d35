import { sha256Hex, toHex } from './hash.ts';
import type { GatewayChallenge } from './protocol.ts';

const encoder = new TextEncoder();

/** What the gateway keeps of a node's secret token, and the key of the node's proofs. */
export function nodeVerifier(token: string): Promise<string> {
  return sha256Hex(encoder.encode(token));
}

/**
 * The answer to the gateway's challenge: HMAC-SHA256 under the node's verifier of the node id and
 * the gateway's fresh nonce. Neither the token nor the verifier crosses the wire, and a proof is
 * worth nothing for any other nonce. `bound`: the node's own challenge to the gateway, which the
 * proof then names too, so it is worth nothing to a gateway the node did not dial. WebCrypto, so
 * browsers and Node compute it alike.
 */
export function nodeProof(verifier: string, nodeId: string, nonce: string, bound?: GatewayChallenge): Promise<string> {
  return bound ? mac(verifier, ['shoal-bound-node-proof', nodeId, nonce, bound.nonce, bound.host]) : mac(verifier, ['shoal-node-proof', nodeId, nonce]);
}

/**
 * The gateway's answer to a node's GatewayChallenge, given with its own challenge's `nonce`: only
 * a holder of the node's verifier (a gateway of its cluster) can make it, and it names the host
 * the node dialed, so a stranger between node and gateway cannot pass it on as its own.
 */
export function gatewayProof(verifier: string, nodeId: string, nonce: string, challenge: GatewayChallenge): Promise<string> {
  return mac(verifier, ['shoal-gateway-proof', nodeId, nonce, challenge.nonce, challenge.host]);
}

async function mac(verifier: string, parts: string[]): Promise<string> {
  const key = await crypto.subtle.importKey('raw', fromHex(verifier), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return toHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(parts.join('\u0000')))));
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
