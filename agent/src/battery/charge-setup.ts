import type { Logger } from 'pino';
import { systemClock } from '@farm-agent/bot-config/lib';
import type { Config } from '../config/settings.js';
import type { SlotManager } from '../devices/slot-manager.js';
import type { PortPower } from '../power/port-power.js';
import { ChargeControl } from './charge-control.js';
import { OwnerChargePort } from './charge-port.js';

/** How long a phone may take to enumerate and show in adb once its port has power. */
const PHONE_RETURN_MS = 60_000;

/** Charge control as the settings ask for it; undefined when FARM_CHARGE_CONTROL is off. */
export function chargeControlFor(
  config: Config,
  manager: SlotManager,
  power: PortPower,
  logger: Logger,
): ChargeControl | undefined {
  if (!config.chargeControl) return undefined;
  return new ChargeControl({
    manager,
    port: new OwnerChargePort(power),
    band: { lowPercent: config.chargeBandLow, highPercent: config.chargeBandHigh },
    checkIntervalMs: config.chargeCheckInterval,
    // Two device refreshes: by then a phone still in adb has shown how it is powered.
    verifyAfterMs: 2 * config.deviceRefresh,
    returnDeadlineMs: PHONE_RETURN_MS,
    // As long as the lifecycle counts a wake as activity.
    holdMs: config.idleCheckInterval,
    clock: systemClock,
    logger: logger.child({ component: 'charge' }),
  });
}
