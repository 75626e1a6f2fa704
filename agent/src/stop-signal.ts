import type { Logger } from 'pino';

/**
 * Resolves with the first SIGTERM or SIGINT. The handlers stay for the whole stop: Ctrl-C on
 * `npm start` delivers SIGINT twice (the terminal's and npm's forwarded copy), and a second one
 * must not cut a drain short.
 */
export function stopSignal(logger: Logger): Promise<NodeJS.Signals> {
  let stopping = false;
  return new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals): void => {
      if (stopping) logger.info({ signal: received }, 'already stopping');
      stopping = true;
      resolve(received);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
