// Injected by the bundler from package.json; the fallback serves tests that run the sources directly.
declare const SWITCHYARD_VERSION: string | undefined;
export const VERSION: string = typeof SWITCHYARD_VERSION === 'string' ? SWITCHYARD_VERSION : '0.0.0-dev';
