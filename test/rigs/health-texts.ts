/**
 * The suggested actions that end the agent's Swarming quarantined/maintenance
 * texts (agent/src/devices/health-explanation.ts), spelled out here so tests
 * check the whole text a person reads in Swarming: `<reason>. <action>`.
 */
export const ACTION = {
  waitBoot: 'Wait: it becomes ready once booted; a boot that never ends gets rebooted.',
  waitRecovering:
    'Wait: it resumes by itself (charged, cooled, or recovered by the agent). If it lasts, check the charger, the airflow and the agent log.',
  checkGone: 'Check the phone, its cable or its network, then replug it.',
  rebootByHand:
    'Reboot the phone by hand (hold the power button 10 s or more); if it hangs again, reflash it or take it out.',
  acceptKey:
    'Unlock the phone and tap "Allow" (tick "Always allow from this computer"). If no dialog shows, the agent\'s adb key changed: keep FARM_STATE_DIR on a persistent volume, then replug.',
  waitOffline:
    'Wait: the agent tries adb reconnect offline, then a power cycle of its port where the hub switches ports one by one. If it stays offline, replug the cable or reboot the phone by hand.',
  waitAdb: 'Wait: the agent restarts its adb server. If it lasts, read the agent log.',
  replaceBattery:
    'Take the phone out and check its battery for swelling; replace the battery or the phone. The slot serves again once another phone is in it.',
  plugPhone: 'Plug a phone in with USB debugging on, or ignore the slot.',
  notOnUsb:
    'Check the cable, the hub and its power supply; replug the phone. A phone that does not power on may have a flat or swollen battery.',
} as const;
