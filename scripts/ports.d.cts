/** A port the OS reports free on 127.0.0.1 right now (a small race remains). */
export function freePort(): Promise<number>;
