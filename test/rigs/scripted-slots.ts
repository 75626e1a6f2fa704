import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { runShellCommand, type PhoneState } from './fake-adbd/shell.js';
import type { Clock } from '@farm-agent/bot-config/lib';
import { SlotManager, type SlotManagerOptions } from '../../agent/src/devices/slot-manager.js';
import { SlotStore } from '../../agent/src/devices/slot-store.js';
import { ScriptedDevices } from './scripted-devices.js';

/** What every test's SlotManager shares: node pi-1, bots named {node}-{slot}, a store in `stateDir`. */
export function testSlotOptions(stateDir: string, logger: Logger, registry: Registry) {
  return {
    store: new SlotStore({ stateDir, logger }),
    node: 'pi-1',
    botIdPattern: '{node}-{slot}',
    insideDocker: false,
    logger,
    registry,
  } satisfies Partial<SlotManagerOptions>;
}

export interface ScriptedSlots {
  devices: ScriptedDevices;
  manager: SlotManager;
  logger: Logger;
  registry: Registry;
}

/**
 * A real SlotManager over strict scripted adb, as the tests of everything
 * built on slots need one: node `pi-1`, bot ids `{node}-{slot}`, the store
 * in `stateDir`. `options` override any of it.
 */
export function scriptedSlots(
  stateDir: string,
  clock: Clock,
  options: Partial<SlotManagerOptions> = {},
): ScriptedSlots {
  const devices = new ScriptedDevices(clock);
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const manager = new SlotManager({
    io: devices,
    presence: devices,
    ...testSlotOptions(stateDir, logger, registry),
    clock,
    ...options,
  });
  return { devices, manager, logger, registry };
}

/** A scripted phone's shell answering like the fake phone's (a hang is a test bug here). */
export function shellOf(state: PhoneState): (command: string) => string {
  return (command) => {
    const result = runShellCommand(state, command);
    if (result.kind !== 'output') throw new Error(`the rig hangs on ${command}`);
    return result.text;
  };
}
