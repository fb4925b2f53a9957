import { MemoryStore } from '../../../manager/store';
import { storeConformance } from '../../integration/store/conformance';

// The in-memory store other components' unit tests use passes the same suite as the etcd store
// (it has no connection to cut and no server to restart, so those cases are skipped).
storeConformance('memory', async () => {
  const store = new MemoryStore();
  return { store, teardown: () => store.close() };
});
