// The production openai adapter against the fake openai upstream: see test/fakes/adapter-suite.ts.
import { adapterSuite } from '../fakes/adapter-suite';

adapterSuite('openai', 'x-ratelimit-remaining-requests');
