import type { PhoneState } from './shell.js';

/** Percent per hour: a phone on a 500 mA port charges far faster than an idle one drains. */
export interface BatteryRates {
  chargePerHour: number;
  drainPerHour: number;
}

export const DEFAULT_BATTERY_RATES: Readonly<BatteryRates> = { chargePerHour: 40, drainPerHour: 4 };

/**
 * A fake phone's battery over time: its level rises while the port gives VBUS and falls
 * while it does not, and the charge counter follows the level. Time is whatever clock the
 * test runs (a ManualClock moves it by hand); the level is brought up to date on `sync()`,
 * which the phone's shell calls before answering (so every dumpsys sees the present).
 */
export class BatteryModel {
  private level: number;
  private since: number;
  private powered: boolean;

  constructor(
    private readonly state: PhoneState,
    private readonly clock: { now(): number },
    private readonly rates: BatteryRates = DEFAULT_BATTERY_RATES,
  ) {
    this.level = state.battery.level;
    this.since = clock.now();
    this.powered = state.battery.plugged !== 'none';
    this.show();
  }

  /** The port's VBUS came or went. */
  setPower(vbus: boolean): void {
    this.sync();
    this.powered = vbus;
    this.show();
  }

  /** Brings the level up to the clock's now. */
  sync(): void {
    const now = this.clock.now();
    const hours = (now - this.since) / 3_600_000;
    this.since = now;
    const rate = this.powered ? this.rates.chargePerHour : -this.rates.drainPerHour;
    this.level = Math.min(100, Math.max(0, this.level + rate * hours));
    this.show();
  }

  /** The exact level, for tests that check the band. */
  get percent(): number {
    return this.level;
  }

  private show(): void {
    const battery = this.state.battery;
    const full = Number(this.state.powerSupply.charge_full ?? 4_000_000);
    battery.level = Math.floor(this.level);
    battery.plugged = this.powered ? 'usb' : 'none';
    battery.status = !this.powered ? 3 : battery.level >= 100 ? 5 : 2;
    battery.chargeCounter = Math.round((full * this.level) / 100);
  }
}
