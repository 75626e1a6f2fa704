import type { Logger } from 'pino';
import { SerialQueue, errorMessage, systemClock } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import { uhubctlTarget } from '../devices/slot.js';
import type { UhubctlTarget } from '../devices/slot.js';
import { execCommand } from './commands.js';
import type { CommandRunner } from './commands.js';
import { WANT_OF, decidingClaim, stands } from './port-claims.js';
import type { PowerClaim, PowerHolder } from './port-claims.js';
import { Uhubctl } from './uhubctl.js';

export type { PowerHolder };

/** One port as /status shows it (`power` of a slot). */
export interface PortPowerState {
  /** Who decides the port now: a claim's holder, `recovery` during a cycle, `none` by default. */
  holder: PowerHolder | 'recovery' | 'none';
  /** `unknown` until read from the hub (readOnce) or switched. */
  state: 'on' | 'off' | 'cycling' | 'unknown';
  reason: string;
  /** Since when (ms since the epoch) the port is in this state. */
  since: number;
  /** The last switch that failed, until one succeeds. */
  lastError?: string;
}

export interface HoldOptions {
  /** The claim lapses by itself then (ms since the epoch): a wake holds the phone for a while. */
  untilMs?: number;
  /** The same caller's other claim, taken back in the same step (sleep replaces wake and back). */
  replaces?: PowerHolder;
  /** The claim lapses once this says false (a task's bot exited); asked at every decision. */
  holds?: () => boolean;
}

/** A switch the owner will not make, and why (the port is ganged, a task holds it...). */
export class PowerRefused extends Error {}

export interface PortPowerOptions {
  /** Runs `uhubctl`; default: the real program. */
  run?: CommandRunner | undefined;
  /** Bound on one uhubctl run (a cycle adds its off time). */
  timeoutMs: number;
  /** The machine's model, e.g. `Raspberry Pi 4 Model B Rev 1.4`: a Pi's own ports are ganged. */
  machineModel?: (() => string | undefined) | undefined;
  clock?: Clock | undefined;
  logger: Logger;
}

interface Port {
  target: UhubctlTarget;
  claims: Map<PowerHolder, PowerClaim>;
  record: PortPowerState;
  /** One switch at a time per port: a cycle is exclusive, a wake never races a cut. */
  queue: SerialQueue;
  /** Its power was read from the hub, or is being read (readOnce). */
  read?: true;
}

/**
 * The one owner of USB port power: sleep, charge control, tasks and the
 * recovery ladder go through it instead of running uhubctl, so they never
 * fight. Holders put claims on a port (`hold`) and take them back (`release`);
 * the highest claim decides (a task or wake beats a cut; see port-claims.ts)
 * and the owner switches only when that changes the port. A cut is made only
 * where the hub switches that port alone. A recovery `cycle` is exclusive
 * and bounded, and never happens under a task.
 */
export class PortPower {
  private readonly ports = new Map<string, Port>();
  /** Per hub location: whether its ports switch alone (the answer cannot change while it is plugged). */
  private readonly switching = new Map<string, Promise<string | undefined>>();
  private readonly uhubctl: Uhubctl;
  private readonly clock: Clock;

  constructor(private readonly options: PortPowerOptions) {
    this.uhubctl = new Uhubctl({
      run: options.run ?? execCommand,
      timeoutMs: options.timeoutMs,
      machineModel: options.machineModel,
    });
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Puts the holder's claim on the port (replacing its previous one) and
   * switches the port if the claim now decides it. Resolves with the port as
   * it is then: a cut claimed under a task's claim leaves it on. Rejects with
   * PowerRefused when the port cannot be cut alone, or with uhubctl's failure;
   * a claim that could not take effect is withdrawn.
   */
  hold(
    target: UhubctlTarget,
    holder: PowerHolder,
    reason: string,
    options: HoldOptions = {},
  ): Promise<PortPowerState> {
    const port = this.portOf(target);
    return port.queue.run(async () => {
      const claim: PowerClaim = { holder, reason, since: this.clock.now() };
      if (options.untilMs !== undefined) claim.until = options.untilMs;
      if (options.holds !== undefined) claim.holds = options.holds;
      const replaced =
        options.replaces === undefined ? undefined : port.claims.get(options.replaces);
      if (options.replaces !== undefined) port.claims.delete(options.replaces);
      port.claims.set(holder, claim);
      try {
        await this.apply(port);
      } catch (error) {
        port.claims.delete(holder);
        if (replaced !== undefined) port.claims.set(replaced.holder, replaced);
        throw error;
      }
      return { ...port.record };
    });
  }

  /** Takes the holder's claim back; the port follows whichever claim is left (on when none). */
  release(target: UhubctlTarget, holder: PowerHolder): Promise<PortPowerState> {
    const port = this.portOf(target);
    return port.queue.run(async () => {
      port.claims.delete(holder);
      await this.apply(port);
      return { ...port.record };
    });
  }

  /**
   * Cuts the port for `offMs` and powers it again (`uhubctl -a cycle`), alone
   * on the port meanwhile, bounded by the uhubctl timeout plus `offMs`. Then the
   * claims decide again. Refused under a task's claim, and where the hub cannot
   * switch the port alone.
   */
  cycle(target: UhubctlTarget, reason: string, offMs: number): Promise<void> {
    const port = this.portOf(target);
    return port.queue.run(async () => {
      this.dropLapsed(port);
      if (port.claims.has('task')) throw new PowerRefused('a task holds the port powered');
      await this.mustSwitchAlone(target);
      const before = port.record;
      this.record(port, { holder: 'recovery', state: 'cycling', reason });
      try {
        await this.uhubctl.switch(target, 'cycle', offMs);
      } catch (error) {
        this.record(port, { ...before, lastError: errorMessage(error) });
        throw error;
      }
      this.record(port, { holder: 'recovery', state: 'on', reason });
      await this.apply(port);
    });
  }

  /**
   * Reads the port's power from its hub the first time the port is seen, so
   * that after a restart /status says on or off truthfully instead of `unknown`
   * (an earlier run may have left it cut). A port is read once; one switched
   * meanwhile keeps what the switch says; a read that fails leaves it `unknown`
   * with the reason.
   */
  readOnce(target: UhubctlTarget): Promise<PortPowerState> {
    const port = this.portOf(target);
    if (port.read) return Promise.resolve({ ...port.record });
    port.read = true;
    return port.queue.run(async () => {
      try {
        // Its switching answer is not kept: the machine's model may not be known yet.
        const probe = await this.uhubctl.probe(target);
        if (port.record.state !== 'unknown') return { ...port.record };
        if (probe.powered === undefined) {
          this.record(port, { ...port.record, reason: 'uhubctl printed no line for the port' });
        } else {
          const state = probe.powered ? 'on' : 'off';
          this.record(port, { ...port.record, state, reason: `${state} when the agent started` });
        }
      } catch (error) {
        this.record(port, { ...port.record, reason: `not read: ${errorMessage(error)}` });
      }
      return { ...port.record };
    });
  }

  /** Why the port cannot be switched without touching others; undefined when it can. */
  cannotSwitchAlone(target: UhubctlTarget): Promise<string | undefined> {
    const known = this.switching.get(target.hub);
    if (known !== undefined) return known;
    const probe = this.uhubctl.cannotSwitchAlone(target);
    this.switching.set(target.hub, probe);
    // A failed probe (uhubctl missing, hub busy) is asked again next time.
    probe.catch(() => this.switching.delete(target.hub));
    return probe;
  }

  /**
   * Whether the port is on with no switch queued or running, and, given `without`, would stay on
   * with that holder's claim taken back: a claim that wants it on, or that release, then
   * switches nothing, it is only written down.
   */
  onAndSettled(target: UhubctlTarget, without?: PowerHolder): boolean {
    const port = this.portOf(target);
    if (port.record.state !== 'on' || port.queue.busy) return false;
    if (without === undefined) return true;
    const left = [...port.claims.values()].filter((claim) => claim.holder !== without);
    const deciding = decidingClaim(left, this.clock.now());
    return deciding === undefined || WANT_OF[deciding.holder] === 'on';
  }

  /** The port as /status shows it. */
  state(target: UhubctlTarget): PortPowerState {
    return { ...this.portOf(target).record };
  }

  private dropLapsed(port: Port): void {
    const now = this.clock.now();
    for (const held of [...port.claims.values()]) {
      if (!stands(held, now)) port.claims.delete(held.holder);
    }
  }

  private async apply(port: Port): Promise<void> {
    this.dropLapsed(port);
    const claim = decidingClaim(port.claims.values(), this.clock.now());
    const want = claim === undefined ? 'on' : WANT_OF[claim.holder];
    const holder = claim?.holder ?? 'none';
    const reason = claim?.reason ?? 'no claim: powered by default';
    if (port.record.state === want) {
      if (port.record.holder !== holder) this.record(port, { ...port.record, holder, reason });
      return;
    }
    if (want === 'off') {
      await this.mustSwitchAlone(port.target);
    } else if (await this.refusedAlone(port.target)) {
      // A port the owner cannot switch alone was never cut by it: nothing to restore.
      this.record(port, { ...port.record, holder, reason });
      return;
    }
    try {
      await this.uhubctl.switch(port.target, want);
    } catch (error) {
      this.record(port, { ...port.record, lastError: errorMessage(error) });
      throw error;
    }
    this.options.logger.info(
      { hub: port.target.hub, port: port.target.port, holder, reason },
      `port power ${want}`,
    );
    this.record(port, { holder, state: want, reason });
  }

  /** True when the hub is known not to switch the port alone (a failed probe is not known). */
  private async refusedAlone(target: UhubctlTarget): Promise<boolean> {
    return (await this.cannotSwitchAlone(target).catch(() => undefined)) !== undefined;
  }

  private async mustSwitchAlone(target: UhubctlTarget): Promise<void> {
    let why: string | undefined;
    try {
      why = await this.cannotSwitchAlone(target);
    } catch (error) {
      why = `uhubctl could not tell whether the port switches alone: ${errorMessage(error)}`;
    }
    if (why !== undefined) throw new PowerRefused(why);
  }

  /** Keeps `since` while the state stays the same. */
  private record(port: Port, next: Omit<PortPowerState, 'since'> & { since?: number }): void {
    const since = next.state === port.record.state ? port.record.since : this.clock.now();
    port.record = { holder: next.holder, state: next.state, reason: next.reason, since };
    if (next.lastError !== undefined) port.record.lastError = next.lastError;
  }

  private portOf(target: UhubctlTarget): Port {
    const key = `${target.hub}:${target.port}`;
    let port = this.ports.get(key);
    if (port === undefined) {
      port = {
        target,
        claims: new Map(),
        record: {
          holder: 'none',
          state: 'unknown',
          reason: 'not switched since the agent started',
          since: this.clock.now(),
        },
        queue: new SerialQueue(),
      };
      this.ports.set(key, port);
    }
    return port;
  }
}

/** A slot's `power` in /status: its port's holder and state, or null for a network phone. */
export function slotPowerStatus(
  power: PortPower,
  slotKey: string,
): (Omit<PortPowerState, 'since'> & { since: string }) | null {
  const target = uhubctlTarget(slotKey);
  if (target === null) return null;
  const state = power.state(target);
  return { ...state, since: new Date(state.since).toISOString() };
}
