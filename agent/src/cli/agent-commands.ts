/**
 * The commands that ask the running agent (over its cluster listener). Loaded only for them
 * (main.ts): `farm-agent run` does not load what they need.
 */
import type { Config } from '../config/settings.js';
import { getFromAgent, postToAgent } from './agent-client.js';
import type { CommandLine, CommandName } from './command-line.js';
import { formatDevices, type SlotSummary } from './devices.js';
import { swarmingView, type AgentStatusForDims } from './dims.js';

/** Every command but those main.ts runs itself. */
export type AgentCommand = Exclude<CommandName, 'run' | 'gate' | 'config' | 'help'>;

/** Prints what the agent answered; throws when it cannot be asked or refuses. */
export async function askAgent(
  command: AgentCommand,
  line: CommandLine,
  config: Config,
): Promise<void> {
  switch (command) {
    case 'status':
      console.log(JSON.stringify(await getFromAgent(config, '/status'), null, 2));
      return;
    case 'devices': {
      const { slots } = (await getFromAgent(config, '/status')) as { slots: SlotSummary[] };
      console.log(line.json ? JSON.stringify(slots, null, 2) : formatDevices(slots));
      return;
    }
    case 'maintenance':
    case 'quarantine': {
      const reason = overrideReason(command, line);
      const effective = await postToAgent(config, '/operator/override', {
        kind: command,
        ...(line.slot === undefined ? {} : { slot: line.slot }),
        reason,
      });
      console.log(JSON.stringify(effective, null, 2));
      return;
    }
    case 'wake':
    case 'sleep': {
      const query = line.slot === undefined ? '' : `?slot=${encodeURIComponent(line.slot)}`;
      console.log(JSON.stringify(await postToAgent(config, `/${command}${query}`), null, 2));
      return;
    }
    case 'dims': {
      const status = (await getFromAgent(config, '/status')) as AgentStatusForDims;
      console.log(JSON.stringify(await swarmingView(config, status, line.slot), null, 2));
      return;
    }
  }
}

/** `--clear` lifts the override; otherwise a reason is stored (a default one if none is given). */
function overrideReason(kind: string, line: CommandLine): string | null {
  if (line.clear) return null;
  const reason = line.reason?.trim();
  return reason ? reason : `${kind} set with farm-agent CLI`;
}
