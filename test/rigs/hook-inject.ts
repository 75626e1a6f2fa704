/**
 * A call straight into the hook server's request listener, without a socket, as Fastify's
 * `inject` made them (the same light-my-request underneath): the tests of what each hook
 * answers. Tests of the caller check and of connections use a listening server instead.
 */
import { inject, type DispatchFunc, type InjectOptions, type Response } from 'light-my-request';

export function injectHook(
  server: { readonly handle: DispatchFunc },
  options: InjectOptions,
): Promise<Response> {
  return inject(server.handle, options);
}
