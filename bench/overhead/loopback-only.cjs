// Preloaded into the peer gateway (node --require): its server listens on every interface by default,
// and the bench must touch only 127.0.0.1, so a listen without a host is bound to loopback.
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args[1] === undefined || typeof args[1] === 'function')) args.splice(1, args[1] === undefined ? 1 : 0, '127.0.0.1');
  else if (typeof args[0] === 'object' && args[0] !== null && !args[0].host && !args[0].path) args[0] = { ...args[0], host: '127.0.0.1' };
  return listen.apply(this, args);
};
