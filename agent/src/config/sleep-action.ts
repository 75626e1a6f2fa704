export const SLEEP_ACTIONS = ['screen', 'usb-power', 'none'] as const;
/** FARM_SLEEP_ACTION: what putting an idle phone to sleep does. */
export type SleepAction = (typeof SLEEP_ACTIONS)[number];
