import type { Parser } from './parse.js';

/** What defaults may depend on; injected so tests do not read the real host. */
export interface DefaultsContext {
  hostname: string;
  home: string;
}

export interface SettingSpec<T> {
  env: `FARM_${string}`;
  doc: string;
  parse: Parser<T>;
  /** A raw value run through `parse` like any input, so a default can never be invalid. */
  default?: string | ((ctx: DefaultsContext) => string);
  /** How the README shows a computed default. */
  defaultDoc?: string;
}

type Defaulted<T> = SettingSpec<T> & { default: NonNullable<SettingSpec<T>['default']> };

// Overloads keep "has a default" in the type, so `Config` knows which settings are always set.
export function setting<T>(spec: Defaulted<T>): Defaulted<T>;
export function setting<T>(spec: SettingSpec<T>): SettingSpec<T>;
export function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/** The default of the names that follow the host: its name without the domain. */
export function shortHostName(ctx: DefaultsContext): string {
  return ctx.hostname.split('.')[0] ?? ctx.hostname;
}
