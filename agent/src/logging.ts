import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs on stdout (what `kubectl logs` and the cluster's log
 * shipper read). Credentials are redacted by path as a second line of defence:
 * code must not log them in the first place.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'farm-agent' },
      redact: {
        paths: [
          'accessToken',
          'access_token',
          'token',
          '*.accessToken',
          '*.access_token',
          '*.token',
          'headers.authorization',
          '*.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
