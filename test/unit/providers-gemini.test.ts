// The production gemini adapter against the fake gemini upstream: see test/fakes/adapter-suite.ts.
import { adapterSuite } from '../fakes/adapter-suite';

adapterSuite('gemini', 'x-goog-fake');
