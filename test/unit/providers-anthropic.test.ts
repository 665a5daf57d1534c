// The production anthropic adapter against the fake anthropic upstream: see test/fakes/adapter-suite.ts.
import { adapterSuite } from '../fakes/adapter-suite';

adapterSuite('anthropic', 'anthropic-ratelimit-requests-remaining');
