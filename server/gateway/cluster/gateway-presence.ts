import { HEARTBEAT_MS, type GatewayDirectory } from './gateway-directory.ts';

/**
 * Registers this gateway in `directory` and beats until stopped; stopping lists it offline at once.
 * A write that fails (the database away for a moment) is simply tried again at the next beat, a
 * registration included: a gateway that stays unreachable is rightly seen offline by the others,
 * and serving goes on meanwhile. `onTaken` hears, once, that another process registered under
 * this gateway's id (its data directory was copied, gateway-id and all).
 */
export async function announceGateway(
  directory: GatewayDirectory,
  self: { id: string; url: string },
  onTaken: () => void = () => {},
  intervalMs = HEARTBEAT_MS,
): Promise<() => Promise<void>> {
  let registered = false;
  let taken = false;
  const register = () => directory.register(self).then(() => void (registered = true));
  const beat = async () => {
    if (!registered) return register();
    if ((await directory.heartbeat()) || taken) return;
    taken = true;
    onTaken();
  };
  let beating: Promise<void> = register().catch(() => {});
  await beating;
  const timer = setInterval(() => {
    beating = beating.then(beat).catch(() => {});
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await beating;
    await directory.close().catch(() => {});
  };
}
